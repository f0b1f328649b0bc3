-- wrk script for `make bench` part loadmix: a Sparkmagic-like mix, after the
-- request shapes of a real Sparkmagic session (create, poll the session until
-- idle, post a statement, poll it, poll the session again). Every 20
-- requests: 1 POST /sessions, 2 POST /sessions/{id}/statements, 4 GET
-- /sessions/{id}/statements/0 and 13 GET /sessions/{id}. Sparkmagic's rare
-- GET /sessions and /log are left out: a list grows with every create of the
-- run. DELETE is too, except in delete mode below: deleting the session
-- being polled would end the mix.
--
--   wrk -s loadmix.lua -H 'Authorization: …' URL -- SESSION_ID
--
-- With "delete" after the session id (the soak), each session the mix
-- creates is deleted by the next request, as Sparkmagic deletes a notebook's
-- session when its kernel stops: the sessions the gateway and the fake Livy
-- know then stay as many, and memory that still grows is the gateway's own.
--
--   wrk -s loadmix.lua -H 'Authorization: …' URL -- SESSION_ID delete
--
-- done() prints one line: rps p50_us p99_us p999_us non2xx socket_errors
-- requests, where socket errors are connect + read + write + timeout.
local requests = {}
local n = 0
local h
local created = {} -- ids of sessions the mix made, to delete (delete mode)

function init(args)
	local id = args[1] or "0"
	h = { ["Content-Type"] = "application/json", ["Accept"] = "*/*", ["X-Requested-By"] = "sparkmagic" }
	for k, v in pairs(wrk.headers) do h[k] = v end -- -H Authorization
	local create = wrk.format("POST", "/sessions", h,
		'{"kind": "pyspark", "driverMemory": "1000M", "conf": {"spark.executor.cores": "1"}}')
	local statement = wrk.format("POST", "/sessions/" .. id .. "/statements", h, '{"code": "1+1"}')
	local pollStatement = wrk.format("GET", "/sessions/" .. id .. "/statements/0", h)
	local poll = wrk.format("GET", "/sessions/" .. id, h)
	requests = { create, poll, poll, poll, poll, statement, pollStatement, pollStatement,
		poll, poll, poll, statement, pollStatement, pollStatement, poll, poll, poll, poll, poll, poll }
	if args[2] == "delete" then
		-- A session's answer names its proxyUser; a statement's does not.
		response = function(status, _, body)
			if status == 201 and body:find('"proxyUser"', 1, true) then
				created[#created + 1] = body:match('"id"%s*:%s*(%d+)')
			end
		end
	end
end

function request()
	if #created > 0 then
		return wrk.format("DELETE", "/sessions/" .. table.remove(created, 1), h)
	end
	n = n % #requests + 1
	return requests[n]
end

function done(summary, latency, _)
	local e = summary.errors
	io.write(string.format("LOADMIX %.1f %d %d %d %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
		e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
