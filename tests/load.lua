-- tests/load.lua: the wrk script of tests/it_load.sh. Each connection sends
-- a mix, as a busy swarm-listener plus dashboards and a scraper would:
--
--   14 in 20  reconfigure of a name from a bounded pool (load-0 .. load-<P-1>,
--             LOAD_POOL, default 200), every one different from the last
--             (a new target port, and half of them with one or two alerts
--             whose threshold changes, the other half with none, which
--             removes the rule file), so nearly every request writes files;
--    2 in 20  GET services, 1 in 20 GET /metrics,
--    1 in 20  GET services/<name> of a pool name already answered 200,
--    2 in 20  reconfigure, then remove, of a per-thread churn name.
--
-- Nothing here can legitimately answer non-2xx: the test requires zero.
-- done() prints one "load:" line with the counts per kind and the first
-- non-2xx answer seen, if any (wrk itself reports the totals).
local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	n = 0
	pool = tonumber(os.getenv("LOAD_POOL") or "200")
	run = os.getenv("LOAD_RUN") or "0"
	known = {}		-- pool names answered 200, as a list
	is_known = {}
	reconf, removes, reads, metrics, one = 0, 0, 0, 0, 0
	bad = 0
	first_bad = ""
	churn = 0
	pn = 0
end

local API = "/v1/docker-flow-monitor"

-- kind 0 and 2: no alert; 1: one alert; 3: a shortcut and a second alert.
local function reconfigure(name, seq, kind)
	local p = API .. "/reconfigure?serviceName=" .. name ..
	    "&scrapePort=9100&targets=127.0.0.1:" .. (10000 + seq % 50000) ..
	    "&scrapeInterval=" .. (5 + seq % 50) .. "s"
	if kind == 1 then
		-- up{job="<name>"} > <seq>, for 30s
		p = p .. "&alertName=high&alertIf=up%7Bjob%3D%22" .. name ..
		    "%22%7D%20%3E%20" .. seq .. "&alertFor=30s" ..
		    "&alertLabels=severity%3Dwarn,run%3D" .. run
	elseif kind == 3 then
		-- a shortcut plus a second, numbered alert
		p = p .. "&alertName.1=mem&alertIf.1=%40service_mem_limit%3A0." ..
		    (1 + seq % 9) .. "&alertName.2=down&alertIf.2=up%20%3D%3D%200" ..
		    "&alertFor.2=" .. (1 + seq % 60) .. "s"
	end
	return wrk.format("GET", p)
end

function request()
	n = n + 1
	local seq = n * 64 + tid
	local k = n % 20
	if k == 0 or k == 10 then
		reads = reads + 1
		return wrk.format("GET", API .. "/services")
	elseif k == 5 then
		metrics = metrics + 1
		return wrk.format("GET", "/metrics")
	elseif k == 15 and #known > 0 then
		one = one + 1
		return wrk.format("GET", API .. "/services/" ..
		    known[1 + seq % #known])
	elseif k == 3 then
		churn = churn + 1
		reconf = reconf + 1
		return reconfigure("churn-" .. tid .. "-" .. churn % 8, seq,
		    churn % 4)
	elseif k == 13 then
		removes = removes + 1
		return wrk.format("GET", API .. "/remove?serviceName=churn-" ..
		    tid .. "-" .. churn % 8)
	end
	reconf = reconf + 1
	-- The next pool name: a step of 7 (prime to the pool size of 200)
	-- visits every name, each thread from its own offset; each visit of
	-- a name by a thread changes its kind (with or without alerts).
	pn = pn + 1
	return reconfigure("load-" .. (pn * 7 + tid * 13) % pool, seq,
	    (pn + math.floor(pn / pool)) % 4)
end

function response(status, headers, body)
	if status < 200 or status > 299 then
		bad = bad + 1
		if first_bad == "" then
			first_bad = status .. " " .. string.sub(body or "", 1, 300)
		end
		return
	end
	if #known < pool and body ~= nil and
	    string.sub(body, 1, 14) == "{\"Status\":200," then
		local name = string.match(body, "\"serviceName\":\"(load%-%d+)\"")
		if name ~= nil and not is_known[name] then
			is_known[name] = true
			table.insert(known, name)
		end
	end
end

function done(summary, latency, requests)
	local t = { reconf = 0, removes = 0, reads = 0, metrics = 0, one = 0,
	    bad = 0 }
	local fb = ""
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + (th:get(k) or 0)
		end
		if fb == "" then
			fb = th:get("first_bad") or ""
		end
	end
	io.write(string.format("load: reconfigure=%d remove=%d services=%d " ..
	    "metrics=%d service=%d non2xx=%d\n", t.reconf, t.removes, t.reads,
	    t.metrics, t.one, t.bad))
	if fb ~= "" then
		io.write("load: first non-2xx: " .. fb .. "\n")
	end
end
