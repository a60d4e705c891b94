-- wrk script for bench_ingest.py: every request a distinct, correctly authenticated Hotmart
-- approval (the template's __ID__ replaced by a per-thread counter), the same for both
-- endpoints. Args: <template file> <hottok> <run prefix>.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = io.open(args[1], "r")
  template = file:read("*a")
  file:close()
  headers = {["Content-Type"] = "application/json", ["X-HOTMART-HOTTOK"] = args[2]}
  prefix = args[3] .. "-" .. tid .. "-"
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.gsub(template, "__ID__", prefix .. counter)
  return wrk.format("POST", "/webhook/hotmart", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
