-- wrk script: the 95/5 mix of mix.lua (95 % GET /products/<id>, 5 % PUT), paced: each
-- connection waits DELAY_MS between its requests, so -cC offers about C * 1000 / DELAY_MS
-- requests per second as long as the answers are quick (wrk is a closed loop; a slow answer
-- lowers the rate). HOT_SHARE of the requests go to the ids LO..LO+HOT_N-1, the rest
-- uniformly to LO..HI. Usage: wrk ... -s bench/wrk/mix-paced.lua URL -- LO HI DELAY_MS HOT_N HOT_SHARE [LABEL]
-- Counts statuses (503 apart from the other 5xx) and X-Cache (HIT/MISS/BYPASS/GUTTER); done()
-- prints one RESULT line (latencies in ms, over all answers).

local threads = {}
local next_id = 0
local writes = { ["Content-Type"] = "application/json" }

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 1000
  pause = tonumber(args[3]) or 10
  hot_n = tonumber(args[4]) or 100
  hot_share = tonumber(args[5]) or 0.5
  label = args[6] or "mix-paced"
  c2xx, c3xx, c4xx, c503, c5xx, other = 0, 0, 0, 0, 0, 0
  hit, miss, bypass, gutter = 0, 0, 0, 0
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

function delay()
  return pause
end

function request()
  local id
  if math.random() < hot_share then id = math.random(lo, lo + hot_n - 1) else id = math.random(lo, hi) end
  if math.random() < 0.05 then
    local body = string.format('{"price":%d.%02d}', math.random(1, 999), math.random(0, 99))
    return wrk.format("PUT", "/products/" .. id, writes, body)
  end
  return wrk.format("GET", "/products/" .. id)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status >= 300 and status < 400 then c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then c4xx = c4xx + 1
  elseif status == 503 then c503 = c503 + 1
  elseif status >= 500 and status < 600 then c5xx = c5xx + 1
  else other = other + 1 end
  local xc = headers["X-Cache"] or headers["x-cache"]
  if xc == "HIT" then hit = hit + 1
  elseif xc == "MISS" then miss = miss + 1
  elseif xc == "BYPASS" then bypass = bypass + 1
  elseif xc == "GUTTER" then gutter = gutter + 1 end
end

local keys = { "c2xx", "c3xx", "c4xx", "c503", "c5xx", "other", "hit", "miss", "bypass", "gutter" }

function done(summary, latency, requests)
  local t = {}
  for _, k in ipairs(keys) do t[k] = 0 end
  local lbl = "mix-paced"
  for _, thread in ipairs(threads) do
    for _, k in ipairs(keys) do t[k] = t[k] + (tonumber(thread:get(k)) or 0) end
    lbl = thread:get("label") or lbl
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT label=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "c2xx=%d c3xx=%d c4xx=%d c503=%d c5xx_other=%d other=%d hit=%d miss=%d bypass=%d gutter=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    lbl, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    t.c2xx, t.c3xx, t.c4xx, t.c503, t.c5xx, t.other, t.hit, t.miss, t.bypass, t.gutter,
    e.connect, e.read, e.write, e.timeout))
end
