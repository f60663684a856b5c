-- reconfigure.lua: wrk script sending reconfigures for distinct services,
-- as many concurrent deployments do. Each wrk thread has its own id, each
-- request a new name: bench-<run>-<thread>-<n>. BENCH_ALERTS=1 adds an
-- alert, so every request also writes a rule file.
local threads = {}
local next_id = 0

function setup(thread)
	next_id = next_id + 1
	thread:set("tid", next_id)
	table.insert(threads, thread)
end

function init(args)
	n = 0
	run = os.getenv("BENCH_RUN") or "0"
	alerts = os.getenv("BENCH_ALERTS") == "1"
end

function request()
	n = n + 1
	local path = "/v1/docker-flow-monitor/reconfigure?serviceName=bench-" ..
	    run .. "-" .. tid .. "-" .. n ..
	    "&scrapePort=9100&targets=127.0.0.1:9100"
	if alerts then
		path = path .. "&alertName=down&alertIf=up%3D%3D0&alertFor=1m"
	end
	return wrk.format("GET", path)
end
