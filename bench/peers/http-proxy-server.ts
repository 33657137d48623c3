// The Node peer: the `http-proxy` package behind node:http, with a keep-alive agent and X-Forwarded-* like ours.
import http from "node:http";
import httpProxy from "http-proxy";

const [port, target] = [Number(process.argv[2]), process.argv[3]!];
const proxy = httpProxy.createProxyServer({ target, xfwd: true, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) });
proxy.on("error", (_err, _req, res) => {
  if (!res.headersSent) res.writeHead(502);
  res.end();
});
http.createServer((req, res) => proxy.web(req, res)).listen(port, "127.0.0.1");
