-- One acquisition (or one report) against a rate budget shared through Redis: GCRA on the
-- server's clock, with the adaptive back-off (AIMD) in the shared state. Atomic: Redis runs a
-- script alone. Times are integer microseconds of redis.call('TIME'). Needs Redis >= 5: it writes
-- after reading the clock, which only effects replication (the default since 5.0) allows.
--
-- KEYS[1]  the budget (hash: tat = theoretical arrival time, rate = effective rate in 1/s,
--          decreased = when a 429 last halved the rate)
-- KEYS[2]  the peers (sorted set: member id -> when it last called)
-- ARGV     1 max rate (1/s), 2 burst, 3 successes since the last call, 4 a 429 (1/0),
--          5 its Retry-After in seconds (< 0: none), 6 take a slot (1/0), 7 member id,
--          8 increase per success, 9 decrease factor, 10 min rate, 11 cooldown (s),
--          12 longest Retry-After honoured (s), 13 peers window (s), 14 idle TTL (s)
-- Returns  {microseconds to wait before sending, effective rate, peers in the window}

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local max_rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local successes = tonumber(ARGV[3])

local state = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'decreased')
local rate = math.min(max_rate, tonumber(state[2]) or max_rate)
-- A new budget starts with an empty bucket, not a full one: the key may be new because Redis
-- restarted under a running crawl, and TMDB still counts the last second Redis forgot.
local tat = tonumber(state[1]) or now + (burst - 1) * 1000000 / rate
local decreased = tonumber(state[3]) or 0

if successes > 0 and rate < max_rate then
  rate = math.min(max_rate, rate + successes * tonumber(ARGV[8]))
end
if ARGV[4] == '1' then
  if now - decreased >= tonumber(ARGV[11]) * 1000000 then
    rate = math.max(math.min(tonumber(ARGV[10]), max_rate), rate * tonumber(ARGV[9]))
    decreased = now
    -- An empty bucket: the next slot is one interval away.
    tat = math.max(tat, now + burst * 1000000 / rate)
  end
  local retry_after = tonumber(ARGV[5])
  if retry_after >= 0 then
    -- Nothing before the pause ends, and no burst right after it.
    local pause = math.min(retry_after, tonumber(ARGV[12])) * 1000000
    tat = math.max(tat, now + pause + (burst - 1) * 1000000 / rate)
  end
end

local interval = 1000000 / rate
tat = math.max(tat, now)
local delay = 0
if ARGV[6] == '1' then
  delay = math.max(0, tat - (burst - 1) * interval - now)
  tat = tat + interval
end

local ttl = tonumber(ARGV[14]) * 1000
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat),
  'rate', string.format('%.17g', rate), 'decreased', string.format('%.0f', decreased))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', (tat - now) / 1000 + ttl))
redis.call('ZADD', KEYS[2], string.format('%.0f', now), ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf',
  string.format('(%.0f', now - tonumber(ARGV[13]) * 1000000))
redis.call('PEXPIRE', KEYS[2], string.format('%.0f', ttl))
local peers = redis.call('ZCARD', KEYS[2])
return {string.format('%.0f', delay), string.format('%.17g', rate), peers}
