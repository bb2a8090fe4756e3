-- wrk script for peers.py: POST the pre-built JSON bodies of a file, one per line, in order, each
-- request the next body; carry on where the previous run against the same server stopped (its
-- position is kept in a state file), so no message comes round again before the file is used up.
-- Any response outside 2xx counts as an error ("status"). Prints chat.lua's WRKJSON summary line.
-- Usage: wrk -t1 -c8 -d5s -s peers.lua URL -- BODIES_FILE STATE_FILE

local bodies, formatted = {}, {}
local headers = { ["Content-Type"] = "application/json" }
local threads = {}
start, counter, nonok = 0, 0, 0  -- globals: done() reads them from each thread

local function read_position(path)
  local f = io.open(path, "r")
  if not f then return 0 end
  local n = tonumber(f:read("*l") or "0") or 0
  f:close()
  return n
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bodies_file, state_file = args[1], args[2]
  for line in io.lines(bodies_file) do
    bodies[#bodies + 1] = line
  end
  start = read_position(state_file)
end

function request()
  local i = (start + counter) % #bodies + 1
  counter = counter + 1
  -- Formatted when first sent, not all up front: wrk's clock runs while init() works.
  local r = formatted[i]
  if not r then
    r = wrk.format("POST", nil, headers, bodies[i])
    formatted[i] = r
  end
  return r
end

function response(status, headers_, body)
  if status < 200 or status > 299 then
    nonok = nonok + 1
  end
end

function done(summary, latency, requests_)
  local e = summary.errors
  local sent, bad, state = 0, 0, nil
  for _, t in ipairs(threads) do
    sent = sent + t:get("counter")
    bad = bad + t:get("nonok")
    state = t:get("state_file")
    position = t:get("start")
  end
  if state then
    local f = io.open(state, "w")
    f:write(tostring(position + sent), "\n")
    f:close()
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, "sent": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, bad, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, sent))
end
