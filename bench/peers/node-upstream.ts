// Fallback upstream when nginx is absent: node:http answering every request with the bench's fixed body.
import http from "node:http";
import { BODY } from "../upstream.js";

const port = Number(process.argv[2]);
const len = String(Buffer.byteLength(BODY));
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "content-length": len });
    res.end(BODY);
  })
  .listen(port, "127.0.0.1");
