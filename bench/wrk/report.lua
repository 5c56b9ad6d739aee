-- Shared by the bench's wrk scripts (loaded with dofile; BENCH_WRK names this folder):
-- counts answers other than the script's `expected` status and prints the one line
-- bench/bench_http.py parses. A script that runs out of work counts `exhausted` itself.

local threads = {}
local next_id = 0

-- Globals of each thread's Lua state: wrk loads the script once per thread.
unexpected = 0
exhausted = 0
expected = 200

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected, exhausted = 0, 0
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("unexpected")
    exhausted = exhausted + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d unexpected=%d exhausted=%d"
      .. " socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    unexpected, exhausted, errors.connect + errors.read + errors.write + errors.timeout))
end
