-- wrk 4 script for bench/load_bench.py. Two modes, chosen by the first argument after `--`:
--
--   paths PATH...                     GET the paths in turn (each thread starts at another one)
--   signup COOKIE CSRF PREFIX [xff]   POST /signup with a new email address each time
--                                     (PREFIX-THREAD-N@example.org); with "xff", each POST also
--                                     comes from a new client address in X-Forwarded-For, as
--                                     through a reverse proxy (tracker serve trusts it from 127.0.0.1)
--
-- Every response's status is counted per thread; done() prints one line
-- `LOAD_RESULT {json}` with the counts (and "sent": requests written, some of them still
-- unanswered when the time was up), the latency percentiles (microseconds) and wrk's errors.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  statuses = {}
  n = 0
  sent = 0
  if mode == "paths" then
    paths = {}
    for i = 2, #args do paths[#paths + 1] = args[i] end
    n = tid  -- threads start at different paths
  elseif mode == "signup" then
    cookie, csrf, prefix, xff = args[2], args[3], args[4], args[5] == "xff"
  else
    error("load.lua: the first argument is paths or signup, not " .. tostring(mode))
  end
end

function request()
  n = n + 1
  sent = sent + 1
  if mode == "paths" then
    return wrk.format("GET", paths[(n % #paths) + 1])
  end
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "tracker_csrf=" .. cookie,
  }
  if xff then
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", tid % 250, math.floor(n / 250) % 250, n % 250 + 1)
  end
  local body = string.format("csrf=%s&email=%s-%d-%d%%40example.org&name=Load+Test&frequency=daily&bill=campaign",
                             csrf, prefix, tid, n)
  return wrk.format("POST", "/signup", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  local sent_total = 0
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    local mine = thread:get("statuses")
    for status, count in pairs(mine) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests": %d, "sent": %d, "duration_us": %d, "bytes": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, sent_total, summary.duration, summary.bytes, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
