-- wrk script: the read ceiling, a trivial authenticated DRF endpoint of the same server.
-- GET /api/rentals/?page_size=1 as a member with no rentals: token authentication, role
-- check, one empty cursor-paginated query. BENCH_TOKEN is that member's token.

dofile(os.getenv("BENCH_WRK") .. "/report.lua")

function init(args)
  wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")
end

function request()
  return wrk.format("GET", "/api/rentals/?page_size=1")
end
