-- wrk script: the write ceiling, POST /bench/gapless-write/ (bench/gapless.py) as a member:
-- token authentication, role check, one transaction taking a number and inserting one
-- invoice row; anything but 201 counts against it. BENCH_TOKEN is that member's token.

dofile(os.getenv("BENCH_WRK") .. "/report.lua")
expected = 201

function init(args)
  wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  return wrk.format("POST", "/bench/gapless-write/", nil, "{}")
end
