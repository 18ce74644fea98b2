-- Replays pre-built requests round-robin, each thread from its own offset, so that
-- every connection rotates through tokens and record ids. The requests file holds one
-- request per line: METHOD <TAB> PATH <TAB> BODY <TAB> Header: value <TAB> ...
-- Arguments: the requests file and the number of threads.
-- done() prints one JSON line the benchmark reads back (latencies in microseconds).

local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

local function split(line)
  local fields = {}
  for value in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, value)
  end
  return fields
end

function init(args)
  local requests = {}
  for line in io.lines(args[1]) do
    local f = split(line)
    local headers = {}
    for i = 4, #f do
      local name, value = f[i]:match("^([^:]+): (.*)$")
      if name then headers[name] = value end
    end
    local body = f[3]
    if body == "" then body = nil end
    table.insert(requests, wrk.format(f[1], f[2], headers, body))
  end
  count = #requests
  pool = requests
  -- Spread the threads over the pool so that no two start on the same request.
  local threads = tonumber(args[2]) or 1
  index = math.floor(offset * count / threads) % count
end

function request()
  index = index + 1
  if index > count then index = 1 end
  return pool[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
