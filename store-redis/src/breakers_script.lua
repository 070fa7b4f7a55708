-- The fleet's open circuit breakers: one hash, dependency -> the time (microseconds, the
-- engines' clock) until which it stays open. Publishes an engine's open breakers (a deadline
-- only ever moves later), forgets the expired ones, and returns the rest.
-- KEYS[1]: the hash. ARGV: now, idle expiry (ms), then pairs of dependency, deadline.
local now = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > old then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    table.insert(out, all[i])
    table.insert(out, all[i + 1])
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return out
