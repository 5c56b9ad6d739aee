-- wrk script: each request ends a distinct pre-started rental, as its member.
-- BENCH_PAIRS names a file of "token rental_id" lines; BENCH_THREADS is wrk's -t.
-- Each thread takes every n-th line, so no rental is ended twice. When a thread runs out,
-- it sends GET /healthz and counts it as "exhausted": the driver then refuses the result.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("BENCH_THREADS"))
  mine = {}
  position = 1
  non_200 = 0
  exhausted = 0
  local index = 0
  for line in io.lines(os.getenv("BENCH_PAIRS")) do
    if index % count == id then
      local token, rental = line:match("^(%S+) (%S+)$")
      table.insert(mine, {token = token, rental = rental})
    end
    index = index + 1
  end
end

function request()
  local pair = mine[position]
  if pair == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz")
  end
  position = position + 1
  return wrk.format("POST", "/api/rentals/" .. pair.rental .. "/end/", {
    ["Authorization"] = "Token " .. pair.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-end-" .. pair.rental,
  }, "{}")
end

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  local non_200, exhausted = 0, 0
  for _, thread in ipairs(threads) do
    non_200 = non_200 + thread:get("non_200")
    exhausted = exhausted + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non_200=%d exhausted=%d"
      .. " socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non_200, exhausted, errors.connect + errors.read + errors.write + errors.timeout))
end
