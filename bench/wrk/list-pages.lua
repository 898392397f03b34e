-- wrk script: GET <path>&page=<p> with p uniform at random in [0, pages - 1].
-- Usage: wrk ... -s bench/wrk/list-pages.lua URL -- PATH PAGES [LABEL]
-- PATH is a list request without its page, e.g. "/products?size=20&sort=-price".
-- Counts statuses and X-Cache values, and prints RESULT and QUANTILES lines in the format of
-- bench/wrk/get-random.lua (its done() is reused).

dofile(os.getenv("BENCH_DIR") .. "/wrk/get-random.lua")

function init(args)
  path = args[1] or "/products?size=20"
  pages = tonumber(args[2]) or 1
  label = args[3] or "list"
  c2xx, c3xx, c4xx, c5xx, other = 0, 0, 0, 0, 0
  hit, miss, bypass = 0, 0, 0
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

function request()
  return wrk.format("GET", path .. "&page=" .. math.random(0, pages - 1))
end
