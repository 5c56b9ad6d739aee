-- wrk script: the ceiling, a trivial authenticated DRF endpoint of the same server.
-- GET /api/rentals/?page_size=1 as a member with no rentals: token authentication, role
-- check, one empty cursor-paginated query. BENCH_TOKEN is that member's token.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non_200 = 0
  exhausted = 0
  wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")
end

function request()
  return wrk.format("GET", "/api/rentals/?page_size=1")
end

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  local non_200 = 0
  for _, thread in ipairs(threads) do
    non_200 = non_200 + thread:get("non_200")
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non_200=%d exhausted=0"
      .. " socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non_200, errors.connect + errors.read + errors.write + errors.timeout))
end
