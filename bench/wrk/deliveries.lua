-- wrk script of `npm run bench:ingest`. Walks through pre-signed deliveries generated in
-- advance (one per line: "<signature header value>\t<body>"), each thread its own slice, so
-- no delivery is sent twice and dedupe never sees a duplicate it was not meant to see.
-- A file of one line sends that delivery over and over (the reject and duplicate paths).
--
-- Environment: BENCH_DELIVERIES (file), BENCH_PATH (request path), BENCH_HEADER (name of the
-- signature header), BENCH_THREADS (wrk -t, to slice the file). Prints one line
-- "BENCH_RESULT {json}" at the end for the driver to parse.

local path = os.getenv("BENCH_PATH") or "/webhooks/nova"
local header = os.getenv("BENCH_HEADER") or "x-nova-signature"
local file = os.getenv("BENCH_DELIVERIES")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local deliveries = {}
local cursor = 0
wrapped = 0

function init(args)
  local index = 0
  local total = 0
  for line in io.lines(file) do
    total = total + 1
    -- A single-line file is shared by every thread; otherwise thread k takes lines k, k+n, …
    if index % nthreads == tid then
      local tab = line:find("\t", 1, true)
      deliveries[#deliveries + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    index = index + 1
  end
  if total == 1 and #deliveries == 0 then
    local line = io.lines(file)()
    local tab = line:find("\t", 1, true)
    deliveries[1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  wrk.method = "POST"
end

function request()
  cursor = cursor + 1
  if cursor > #deliveries then
    cursor = 1
    wrapped = wrapped + 1
  end
  local d = deliveries[cursor]
  local headers = { ["Content-Type"] = "application/json" }
  headers[header] = d[1]
  return wrk.format("POST", path, headers, d[2])
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"non2xx":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"mean_us":%.1f,"wrapped":%d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean, wraps
  ))
end
