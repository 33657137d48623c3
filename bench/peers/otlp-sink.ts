// A local OTLP/HTTP receiver for the telemetry row: accepts every export (counting bytes), answers an empty
// protobuf response (a valid Export*ServiceResponse), and reports its counts on GET /stats.
import http from "node:http";

const port = Number(process.argv[2]);
const counts = { requests: 0, bytes: 0 };
http
  .createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(req.url === "/stats" ? 200 : 200, { "content-type": "application/json" });
      return res.end(JSON.stringify(counts));
    }
    req.on("data", (c: Buffer) => (counts.bytes += c.length));
    req.on("end", () => {
      counts.requests++;
      res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "0" });
      res.end();
    });
  })
  .listen(port, "127.0.0.1");
