-- wrk script for bench_http.py: POST {"message": ...} rotating over visitors' questions,
-- then print one machine-readable summary line for the driver to parse.

local questions = {
  "What is remedial massage?",
  "Can remedial massage help with back pain?",
  "will massage help me concentrate better",
  "What is trigger point therapy",
  "how long until I feel better",
  "my wrists tingle when I type",
  "does it hurt?",
  "How much do you charge for an hour?",
  "I'm having chemotherapy at the moment, would massage help my aches?",
  "I have crushing chest pain going down my left arm",
  "hello there",
  "thank you",
}

local requests = {}
local counter = 0

-- Built once per thread: formatting per request would load wrk's Lua, not the server.
function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for i, q in ipairs(questions) do
    local body = '{"message": "' .. q:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"}'
    requests[i] = wrk.format("POST", nil, headers, body)
  end
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
