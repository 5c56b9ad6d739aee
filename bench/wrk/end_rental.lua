-- wrk script: each request ends a distinct pre-started rental, as its member.
-- BENCH_PAIRS names a file of "token rental_id" lines; BENCH_THREADS is wrk's -t.
-- Each thread takes every n-th line, so no rental is ended twice. When a thread runs out,
-- it sends GET /healthz and counts it as "exhausted": the driver then refuses the result.

dofile(os.getenv("BENCH_WRK") .. "/report.lua")

function init(args)
  local count = tonumber(os.getenv("BENCH_THREADS"))
  mine = {}
  position = 1
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
