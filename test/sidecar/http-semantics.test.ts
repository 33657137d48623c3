// RFC 9110/9112 behaviour through a real sidecar process: headers, Expect, bodiless responses, chunked bodies and
// trailers, client aborts, upstream resets, and the sidecar's own error responses.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { rawExchange, statusOf } from "../support/raw.js";
import { requireBinary } from "../support/binaries.js";
import { sidecarYaml, tempDir, type TempDir } from "../support/config.js";

const run = promisify(execFile);
let up: Echo;
let sidecar: Proc;
let dir: TempDir;
let outbound: number;
let admin: number;
let closedPort: number;
/** Upstream requests that ended without the response finishing (client abort reached the upstream). */
const upstreamAborted = new Set<string>();
const upstreamSeen = new Set<string>();

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url!, "http://x");
  const id = url.searchParams.get("id") ?? "";
  upstreamSeen.add(id);
  res.on("close", () => {
    if (!res.writableFinished) upstreamAborted.add(id);
  });
  switch (url.pathname) {
    case "/head":
      res.writeHead(200, { "content-type": "text/plain", "content-length": 11 });
      return void res.end(req.method === "HEAD" ? undefined : "hello world");
    case "/204":
      res.writeHead(204, { "x-kind": "no-content" });
      return void res.end();
    case "/304":
      res.writeHead(304, { etag: '"v1"' });
      return void res.end();
    case "/trailers":
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
      res.write("part1,");
      res.write("part2");
      res.addTrailers({ "x-checksum": "abc123" });
      return void res.end();
    case "/resp-hop":
      res.setHeader("connection", "keep-alive, x-resp-hop");
      res.setHeader("x-resp-hop", "1");
      res.setHeader("proxy-authenticate", "Basic");
      res.setHeader("x-resp-kept", "1");
      return void res.end("ok");
    case "/hold":
      return; // never answers
    case "/stream-hold":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first chunk");
      return; // never ends
    case "/reset-mid-body": {
      const chunked = url.searchParams.has("chunked");
      res.writeHead(200, chunked ? { "content-type": "text/plain" } : { "content-type": "text/plain", "content-length": 1000 });
      res.write("x".repeat(100));
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    case "/reset-now":
      return void req.socket.destroy();
    default: {
      let n = 0;
      let te = req.headers["transfer-encoding"] ?? "";
      req.on("data", (c: Buffer) => (n += c.length));
      req.on("end", () => {
        const body = JSON.stringify({ method: req.method, url: req.url, bytes: n, te, headers: req.headers, trailers: req.trailers });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
        te = "";
      });
    }
  }
}

before(async () => {
  up = await startEcho({ handler });
  dir = tempDir();
  let app: number;
  [outbound, admin, app, closedPort] = (await freePorts(4)) as [number, number, number, number];
  const file = dir.write(
    "sidecar.yaml",
    sidecarYaml({ app, outbound, admin, backends: { payments: [up.port], refused: { ports: [closedPort], passiveHealth: { baseEjectionTime: "30s" } } } }),
  );
  sidecar = await startSidecar(["--config", file], admin);
});

after(async () => {
  await sidecar?.kill();
  await up?.close();
  dir?.remove();
});

const base = () => `http://127.0.0.1:${outbound}`;
const H = { host: "payments" };

test("response hop-by-hop headers (and those the upstream's Connection names) are dropped", async () => {
  const r = await request(`${base()}/resp-hop`, { headers: H });
  await r.body.text();
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers["x-resp-kept"], "1");
  assert.equal(r.headers["x-resp-hop"], undefined);
  assert.equal(r.headers["proxy-authenticate"], undefined);
});

test("request hop-by-hop: Upgrade/TE/Trailer/Proxy-* stripped, end-to-end headers kept, multi-valued XFF appended", async () => {
  const raw = await rawExchange(
    outbound,
    "GET /echo HTTP/1.1\r\nHost: payments\r\nConnection: close\r\nTE: trailers\r\nTrailer: x-t\r\nUpgrade: foo\r\nProxy-Foo: 1\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nx-request-id: abc-123\r\nx-end: 1\r\n\r\n",
  );
  assert.deepEqual(statusOf(raw.text), [200]);
  const body = JSON.parse(raw.text.slice(raw.text.indexOf("\r\n\r\n") + 4)) as { headers: Record<string, string> };
  for (const h of ["te", "trailer", "upgrade", "proxy-foo"]) assert.equal(body.headers[h], undefined, h);
  assert.equal(body.headers["x-end"], "1");
  assert.equal(body.headers["x-request-id"], "abc-123");
  assert.equal(body.headers["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.1");
  assert.match(raw.text, /\r\nx-request-id: abc-123\r\n/i, "the request id is echoed to the client");
});

test("Expect: 100-continue: the client gets 100 before sending the body, then the upstream's answer", async () => {
  const sock = net.connect(outbound, "127.0.0.1");
  await once(sock, "connect");
  let text = "";
  sock.on("data", (d) => (text += d.toString("latin1")));
  sock.write("POST /echo HTTP/1.1\r\nHost: payments\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
  const deadline = Date.now() + 5000;
  while (!text.includes("100 Continue") && Date.now() < deadline) await sleep(10);
  assert.match(text, /^HTTP\/1\.1 100 Continue\r\n/);
  sock.write("hello");
  await once(sock, "close");
  assert.deepEqual(statusOf(text), [100, 200]);
  const body = JSON.parse(text.slice(text.lastIndexOf("\r\n\r\n") + 4)) as { bytes: number; headers: Record<string, string> };
  assert.equal(body.bytes, 5);
  assert.equal(body.headers.expect, undefined, "Expect was answered by the sidecar, not forwarded");
});

test("Expect: 100-continue via curl with a 2 MB body", async (t) => {
  if (!requireBinary(t, "curl")) return;
  const file = dir.write("two-mb.bin", Buffer.alloc(2 * 1024 * 1024, 7));
  const { stdout } = await run("curl", ["-sS", "--expect100-timeout", "10", "-H", "Expect: 100-continue", "-H", "Host: payments", "--data-binary", `@${file}`, `${base()}/echo`]);
  assert.equal((JSON.parse(stdout) as { bytes: number }).bytes, 2 * 1024 * 1024);
});

test("HEAD, 204 and 304 carry no body: a pipelined request on the same connection still parses", async () => {
  for (const [method, path, status] of [["HEAD", "/head", 200], ["GET", "/204", 204], ["GET", "/304", 304]] as const) {
    const raw = await rawExchange(outbound, `${method} ${path} HTTP/1.1\r\nHost: payments\r\n\r\nGET /echo?after=1 HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statusOf(raw.text), [status, 200], `${method} ${path}: ${raw.text}`);
    const first = raw.text.slice(0, raw.text.indexOf("HTTP/1.1 200", 12));
    const [head, rest] = first.split("\r\n\r\n");
    assert.equal(rest, "", `${method} ${path} must have no body bytes`);
    assert.doesNotMatch(head!, /transfer-encoding/i, `${method} ${path}`);
    if (method === "HEAD") assert.match(head!, /content-length: 11/i, "HEAD keeps the entity's Content-Length");
  }
});

test("chunked request body streams to the upstream", async () => {
  const raw = await rawExchange(outbound, "POST /echo HTTP/1.1\r\nHost: payments\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  assert.deepEqual(statusOf(raw.text), [200]);
  const body = JSON.parse(raw.text.slice(raw.text.indexOf("\r\n\r\n") + 4)) as { bytes: number; te: string };
  assert.equal(body.bytes, 11);
});

test("chunked response trailers reach the client", async () => {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get({ host: "127.0.0.1", port: outbound, path: "/trailers", headers: { host: "payments", te: "trailers" }, agent: false }, resolve).on("error", reject),
  );
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => (body += c));
  await once(res, "end");
  assert.equal(body, "part1,part2");
  assert.equal(res.headers["transfer-encoding"], "chunked");
  assert.equal(res.trailers["x-checksum"], "abc123");
});

test("client abort before the response cancels the upstream request", async () => {
  const id = "abort-before";
  const req = http.get({ host: "127.0.0.1", port: outbound, path: `/hold?id=${id}`, headers: H, agent: false });
  req.on("error", () => {});
  const deadline = Date.now() + 5000;
  while (!upstreamSeen.has(id) && Date.now() < deadline) await sleep(10);
  assert.ok(upstreamSeen.has(id), "the upstream saw the request");
  req.destroy();
  while (!upstreamAborted.has(id) && Date.now() < deadline) await sleep(10);
  assert.ok(upstreamAborted.has(id), "the upstream request was cancelled");
});

test("client abort mid-body cancels the upstream response stream", async () => {
  const id = "abort-mid";
  const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get({ host: "127.0.0.1", port: outbound, path: `/stream-hold?id=${id}`, headers: H, agent: false }, resolve).on("error", reject),
  );
  assert.equal(res.statusCode, 200);
  await once(res, "data");
  res.destroy();
  const deadline = Date.now() + 5000;
  while (!upstreamAborted.has(id) && Date.now() < deadline) await sleep(10);
  assert.ok(upstreamAborted.has(id));
});

test("upstream reset mid-body ends the client response incomplete (content-length and chunked)", async () => {
  const cl = await rawExchange(outbound, "GET /reset-mid-body HTTP/1.1\r\nHost: payments\r\n\r\n", 5000);
  assert.ok(cl.closed, "connection closed");
  assert.deepEqual(statusOf(cl.text), [200]);
  assert.match(cl.text, /content-length: 1000/i);
  assert.ok(cl.text.length - cl.text.indexOf("\r\n\r\n") - 4 < 1000, "fewer bytes than announced");

  const ch = await rawExchange(outbound, "GET /reset-mid-body?chunked=1 HTTP/1.1\r\nHost: payments\r\n\r\n", 5000);
  assert.ok(ch.closed, "connection closed");
  assert.match(ch.text, /transfer-encoding: chunked/i);
  assert.doesNotMatch(ch.text, /\r\n0\r\n\r\n$/, "no terminating chunk: the client cannot mistake it for complete");
});

async function errorOf(host: string, path = "/") {
  const r = await request(`${base()}${path}`, { headers: { host } });
  const body = (await r.body.json()) as { error: { code: string; message: string } };
  assert.equal(r.headers["content-type"], "application/json");
  assert.equal(r.headers["x-outrigger-error"], body.error.code);
  assert.ok(body.error.message.length > 10);
  return { status: r.statusCode, code: body.error.code, message: body.error.message };
}

test("errors: 502 refused, then 503 no healthy endpoint while ejected", async () => {
  assert.deepEqual(await errorOf("refused").then((e) => [e.status, e.code]), [502, "UPSTREAM_CONNECT_FAILED"]);
  const e = await errorOf("refused");
  assert.deepEqual([e.status, e.code], [503, "NO_HEALTHY_ENDPOINT"]);
  assert.match(e.message, /ejected/);
});

test("errors: 502 when the upstream resets before answering", async () => {
  assert.deepEqual(await errorOf("payments", "/reset-now").then((e) => [e.status, e.code]), [502, "UPSTREAM_RESET"]);
});

test("errors: 503 unknown service names the host", async () => {
  const e = await errorOf("ghost");
  assert.deepEqual([e.status, e.code], [503, "UNKNOWN_SERVICE"]);
  assert.match(e.message, /ghost/);
});

test("the sidecar still serves after all of the above (once the reset endpoint's 1 s ejection has passed)", async () => {
  const deadline = Date.now() + 5_000;
  let status = 0;
  while (Date.now() < deadline) {
    const r = await request(`${base()}/echo`, { headers: H });
    await r.body.text();
    status = r.statusCode;
    if (status === 200) break;
    assert.equal(r.headers["x-outrigger-error"], "NO_HEALTHY_ENDPOINT");
    await sleep(100);
  }
  assert.equal(status, 200);
});
