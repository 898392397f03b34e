-- wrk script: POST /products, every body different (name carries the thread and a counter).
-- Usage: wrk ... -s bench/wrk/post-create.lua URL -- [LABEL]
-- Counts statuses in response(); done() prints one machine-readable RESULT line (ms).

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  label = args[1] or "post"
  c2xx, c201, c3xx, c4xx, c5xx, other = 0, 0, 0, 0, 0, 0
  n = 0
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  local body = string.format(
    '{"name":"load-%d-%d","description":"written by bench/sqlite-load.sh","price":%d.%02d,"stock_quantity":%d}',
    tid, n, math.random(0, 9999), math.random(0, 99), math.random(0, 1000))
  return wrk.format("POST", "/products", headers, body)
end

function response(status, headers, body)
  if status == 201 then c201 = c201 + 1 end
  if status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status >= 300 and status < 400 then c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then c4xx = c4xx + 1
  elseif status >= 500 and status < 600 then c5xx = c5xx + 1
  else other = other + 1 end
end

local keys = { "c2xx", "c201", "c3xx", "c4xx", "c5xx", "other" }

function done(summary, latency, requests)
  local t = {}
  for _, k in ipairs(keys) do t[k] = 0 end
  local lbl = "post"
  for _, thread in ipairs(threads) do
    for _, k in ipairs(keys) do t[k] = t[k] + (tonumber(thread:get(k)) or 0) end
    lbl = thread:get("label") or lbl
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT label=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "c2xx=%d c201=%d c3xx=%d c4xx=%d c5xx=%d other=%d non2xx=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    lbl, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    t.c2xx, t.c201, t.c3xx, t.c4xx, t.c5xx, t.other, t.c3xx + t.c4xx + t.c5xx + t.other,
    e.connect, e.read, e.write, e.timeout))
end
