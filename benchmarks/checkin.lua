-- wrk script for the check-in benchmark: each request checks a different citizen in.
-- Environment: BENCH_PATH (request path), BENCH_SERVICES (comma-separated service codes),
-- BENCH_OFFSET (first citizen index, so runs against one session never repeat a NIK),
-- BENCH_THREADS (wrk's -t, so the threads' citizens interleave without gaps),
-- BENCH_RATE (optional: requests/s per connection, paced with wrk's delay()) and
-- BENCH_CONNECTIONS_PER_THREAD (the pacing's share per thread) and BENCH_TOKEN (optional: a
-- bearer token sent with every request).
local counter = 0
local threads_started = 0
local path = os.getenv("BENCH_PATH")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local per_connection_rate = tonumber(os.getenv("BENCH_RATE") or "0")
local connections_per_thread = tonumber(os.getenv("BENCH_CONNECTIONS_PER_THREAD") or "1")
local services = {}
for code in string.gmatch(os.getenv("BENCH_SERVICES") or "", "[^,]+") do
  services[#services + 1] = '"' .. code .. '"'
end
local services_json = "[" .. table.concat(services, ",") .. "]"

-- Runs in wrk's main Lua state: give each thread's own state a global `thread_id`.
function setup(thread)
  thread:set("thread_id", threads_started)
  threads_started = threads_started + 1
end

-- A distinct valid NIK per index (as benchmarks/load.py nik()): birth date and serial vary.
local function nik(index)
  local serial = index % 9999 + 1
  local day = math.floor(index / 9999) % 28 + 1
  local month = math.floor(index / (9999 * 28)) % 12 + 1
  return string.format("321605%02d%02d90%04d", day, month, serial)
end

function init(args)
  math.randomseed(os.time() + thread_id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("BENCH_TOKEN") or ""
  if token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function request()
  -- Threads take interleaved indexes: thread t of n sends t, t + n, t + 2n, ...
  local index = offset + counter * threads + thread_id
  counter = counter + 1
  local body = '{"nik":"' .. nik(index) .. '","name":"Warga Simulasi","services":' .. services_json .. '}'
  return wrk.format(nil, path, nil, body)
end

if per_connection_rate > 0 then
  -- A connection's cycle is this delay plus the response time: once a second, scale the
  -- delay so that the thread's answered requests match its share of the asked rate.
  -- os.time() counts whole seconds, so counting starts at the first boundary after the
  -- first response (a partial first second would read as "too slow" and set off a burst),
  -- and each correction goes half way (in log scale): answers lag the sends by a delay, and
  -- a full correction every second overshoots, then oscillates.
  local pace = 1.0
  local second = nil -- the whole second being counted
  local whole = false -- whether counting began at a boundary (else it is a partial second)
  local answered = 0

  -- Random within +-50 % of the mean: connections that all start together would otherwise
  -- stay in step and send in bursts of one request each, not at an even rate.
  function delay()
    return math.floor(1000 / per_connection_rate * pace * (0.5 + math.random()))
  end

  function response(status, headers, body)
    local now = os.time()
    if second == nil then
      second = now
    end
    if now ~= second then
      if whole and answered > 0 then
        local wanted = per_connection_rate * connections_per_thread * (now - second)
        pace = math.max(0.5, math.min(2.0, pace * math.sqrt(answered / wanted)))
      end
      second, whole, answered = now, true, 0
    end
    answered = answered + 1
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
