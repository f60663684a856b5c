-- scale.lua: wrk script filling the volume for bench/scale.sh: services
-- bg0 .. bg<BENCH_POOL-1>, each with one target on a closed port scraped
-- every 60 s (a target file each), and every BENCH_ALERT_EVERY-th one
-- also with an alert that never fires (a rule file). Requests repeat the
-- same parameters: a second pass changes nothing on disk.
local next_id = 0

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
end

function init(args)
	n = 0
	pool = tonumber(os.getenv("BENCH_POOL") or "100")
	threads = tonumber(os.getenv("BENCH_THREADS") or "2")
	every = tonumber(os.getenv("BENCH_ALERT_EVERY") or "10")
end

function request()
	local k = (n * threads + tid) % pool
	n = n + 1
	local path = "/v1/docker-flow-monitor/reconfigure?serviceName=bg" ..
	    k .. "&targets=127.0.0.1:1&scrapeInterval=60s"
	if k % every == 0 then
		path = path .. "&alertName=never&alertIf=up%7Bjob%3D%22bg" ..
		    k .. "%22%7D%3D%3D2"
	end
	return wrk.format("GET", path)
end
