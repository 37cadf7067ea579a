-- wrk script of `make bench`: counts every answer whose status is not the
-- expected one (200 for pages; 302 for a login), so a redirect to a login
-- page or an error can never pass for a fast page. wrk itself counts 3xx as
-- success.
--
-- Environment: BENCH_EXPECT (status, default 200); BENCH_BODIES (optional,
-- newline-separated): POST one of these bodies per thread, thread n the n-th.

local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")
local threads = {}
local bodies = {}
for line in string.gmatch(os.getenv("BENCH_BODIES") or "", "[^\n]+") do
  table.insert(bodies, line)
end

function setup(thread)
  table.insert(threads, thread)
  if #bodies > 0 then
    thread:set("body", bodies[(#threads - 1) % #bodies + 1])
  end
end

bad = 0
statuses = ""

function init(args)
  if body then
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function response(status, headers, response_body)
  if status ~= expected then
    bad = bad + 1
    if #statuses < 60 then
      statuses = statuses .. " " .. status
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local seen = ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
    seen = seen .. thread:get("statuses")
  end
  io.write(string.format("BENCH_BAD %d%s\n", total, seen))
end
