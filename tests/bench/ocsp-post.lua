-- ocsp-post.lua - wrk script: POSTs the DER OCSP request in $OCSP_REQ.
local f = assert(io.open(os.getenv("OCSP_REQ"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
if os.getenv("OCSP_CLOSE") == "1" then
	wrk.headers["Connection"] = "close"
end
