-- ui.lua: wrk script for bench/ui.sh: creates BENCH_POOL services
-- ui-0 .. ui-<pool-1>, each with one target on a closed port (down,
-- scraped every minute) and, one in ten, an alert on it (firing).
local next_id = 0

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
end

function init(args)
	n = 0
	pool = tonumber(os.getenv("BENCH_POOL") or "100")
	threads = tonumber(os.getenv("BENCH_THREADS") or "2")
end

function request()
	local k = (n * threads + tid) % pool
	n = n + 1
	local path = "/v1/docker-flow-monitor/reconfigure?serviceName=ui-" ..
	    k .. "&targets=127.0.0.1:1&scrapeInterval=1m&scrapeTimeout=5s"
	if k % 10 == 0 then
		path = path .. "&alertName=down&alertIf=up%7Bjob%3D%22ui-" ..
		    k .. "%22%7D%3D%3D0"
	end
	return wrk.format("GET", path)
end
