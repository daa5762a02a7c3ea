-- wrk script: each thread POSTs its own share of the pre-signed bodies in
-- BODIES, one body per request, so that no callback is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local nthreads = tonumber(os.getenv("WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    if i % nthreads == id then
      bodies[#bodies + 1] = line
    end
    i = i + 1
  end
  next_body = 1
  wraps = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if next_body > #bodies then
    next_body = 1
    wraps = wraps + 1
  end
  local body = bodies[next_body]
  next_body = next_body + 1
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local reused = 0
  for _, thread in ipairs(threads) do
    reused = reused + thread:get("wraps")
  end
  io.write(string.format("bodies_reused_rounds %d\n", reused))
end
