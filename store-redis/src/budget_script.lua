-- One fleet retry budget: a token bucket in thousandths of a token, the same arithmetic as the
-- engine's local RetryBudget (smartretry core, budget/bucket.rs), applied atomically.
-- KEYS[1]: the budget's hash (milli, carry, at).
-- ARGV: op (request | add | spend), now (microseconds), kind (ratio | grpc | aws_standard),
--       capacity (milli), refill rate (milli per second, ratio budgets), amount (milli: added
--       by `request`/`add`, the cost for `spend`), idle expiry (milliseconds).
-- Returns {allowed (1/0, spend only), tokens held after (milli)}.
local op, now, kind = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local cap, rate, amount = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local s = redis.call('HMGET', KEYS[1], 'milli', 'carry', 'at')
local milli = tonumber(s[1]) or cap
local carry = tonumber(s[2]) or 0
local at = tonumber(s[3]) or now
if milli > cap then milli = cap end
local function add(m)
  milli = math.max(0, math.min(cap, milli + m))
end
if op == 'request' or op == 'spend' then
  if kind == 'ratio' then
    carry = carry + rate * (math.max(0, now - at) / 1000000)
    local whole = math.floor(carry)
    carry = carry - whole
    add(whole)
    if milli == cap then carry = 0 end
  end
  if now > at then at = now end
end
local allowed = 0
if op == 'request' or op == 'add' then
  add(amount)
elseif op == 'spend' then
  if kind == 'grpc' then
    allowed = (milli > math.floor(cap / 2)) and 1 or 0
  else
    allowed = (milli >= amount) and 1 or 0
  end
  if allowed == 1 then add(-amount) end
end
redis.call('HSET', KEYS[1], 'milli', string.format('%.0f', milli),
  'carry', string.format('%.17g', carry), 'at', string.format('%.0f', at))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]))
return {allowed, milli}
