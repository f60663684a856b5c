-- reconfigure.lua: wrk script sending durable reconfigures to a pool of
-- BENCH_POOL distinct services (bench-0 .. bench-<pool-1>), as concurrent
-- deployments do. Each wrk thread owns the services whose number is its id
-- modulo the thread count; each pass over them changes the scrape port, so
-- every request really rewrites the service's record and target file and
-- the number of services stays the pool size. BENCH_ALERTS=1 adds an alert
-- whose expression changes each pass too (a rule file per request).
local next_id = 0

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
end

function init(args)
	n = 0
	pool = tonumber(os.getenv("BENCH_POOL") or "100")
	threads = tonumber(os.getenv("BENCH_THREADS") or "2")
	base = tonumber(os.getenv("BENCH_BASE") or "0")
	alerts = os.getenv("BENCH_ALERTS") == "1"
end

function request()
	local k = n * threads + tid
	n = n + 1
	local pass = base + math.floor(k / pool)
	local port = 1024 + pass % 60000
	local path = "/v1/docker-flow-monitor/reconfigure?serviceName=bench-" ..
	    (k % pool) .. "&scrapePort=" .. port ..
	    "&targets=127.0.0.1:" .. port
	if alerts then
		path = path .. "&alertName=down&alertIf=up%3D%3D" .. pass ..
		    "&alertFor=1m"
	end
	return wrk.format("GET", path)
end
