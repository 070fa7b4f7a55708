-- One leasing round of an engine on a fleet budget shared by engines' own buckets (smartretry
-- core, budget/shared.rs): refill, take the engine's credit (negative: a debt), hand out what it
-- wants. Applied once per (engine, sequence): a resent round gets the stored answer.
-- KEYS[1]: the budget's hash (milli, carry, at, and per engine seq:<id>, ans:<id>).
-- ARGV: engine id, round sequence, now (microseconds), kind (ratio | grpc | aws_standard),
--       capacity (milli), refill rate (milli per second, ratio budgets), credit (milli),
--       wanted (milli), idle expiry (milliseconds).
-- Returns {granted (milli), tokens held after (milli; negative while debts are repaid)}.
local id, seq, now, kind = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local cap, rate = tonumber(ARGV[5]), tonumber(ARGV[6])
local credit, want = tonumber(ARGV[7]), tonumber(ARGV[8])
local done = redis.call('HMGET', KEYS[1], 'seq:' .. id, 'ans:' .. id)
if done[1] and tonumber(done[1]) >= seq then
  local g, l = string.match(done[2] or '0 0', '(-?%d+) (-?%d+)')
  return {tonumber(g), tonumber(l)}
end
local s = redis.call('HMGET', KEYS[1], 'milli', 'carry', 'at')
local milli = tonumber(s[1]) or cap
local carry = tonumber(s[2]) or 0
local at = tonumber(s[3]) or now
if milli > cap then milli = cap end
if kind == 'ratio' and milli < cap then
  carry = carry + rate * (math.max(0, now - at) / 1000000)
  local whole = math.floor(carry)
  carry = carry - whole
  milli = math.min(cap, milli + whole)
  if milli == cap then carry = 0 end
end
if now > at then at = now end
-- Debts may take ratio and AWS buckets below zero (refills repay them); gRPC is a level.
milli = math.min(cap, milli + credit)
if kind == 'grpc' then milli = math.max(0, milli) else milli = math.max(-cap, milli) end
local granted = 0
if kind ~= 'grpc' and want > 0 and milli > 0 then
  granted = math.min(want, milli)
  milli = milli - granted
end
redis.call('HSET', KEYS[1], 'milli', string.format('%.0f', milli),
  'carry', string.format('%.17g', carry), 'at', string.format('%.0f', at),
  'seq:' .. id, string.format('%.0f', seq),
  'ans:' .. id, string.format('%.0f %.0f', granted, milli))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[9]))
return {granted, milli}
