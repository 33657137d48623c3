// End-to-end basics through a real sidecar process: both outbound modes, inbound, headers, errors.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { requireBinary } from "../support/binaries.js";
import { request } from "undici";
import { rawExchange } from "../support/raw.js";

const run = promisify(execFile);
let echo: Echo;
let app: Echo;
let sidecar: Proc;
let ports: { inbound: number; outbound: number; admin: number };

before(async () => {
  echo = await startEcho({ name: "payments" });
  app = await startEcho({ name: "app" });
  const [inbound, outbound, admin] = await freePorts(3);
  ports = { inbound: inbound!, outbound: outbound!, admin: admin! };
  sidecar = await startSidecar(
    ["--service", "checkout", "--app", `127.0.0.1:${app.port}`, "--inbound", String(ports.inbound), "--outbound", String(ports.outbound), "--endpoint", `payments=127.0.0.1:${echo.port}`],
    ports.admin,
  );
});

after(async () => {
  await sidecar?.kill();
  await echo?.close();
  await app?.close();
});

test("Host-header mode reaches the service, with X-Forwarded-* and a generated x-request-id", async () => {
  const r = await request(`http://127.0.0.1:${ports.outbound}/pay?x=1`, { headers: { host: "payments", "x-forwarded-for": "10.0.0.1" } });
  assert.equal(r.statusCode, 200);
  const body = (await r.body.json()) as { name: string; url: string; headers: Record<string, string> };
  assert.equal(body.name, "payments");
  assert.equal(body.url, "/pay?x=1");
  assert.equal(body.headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
  assert.equal(body.headers["x-forwarded-proto"], "http");
  assert.equal(body.headers["x-forwarded-host"], "payments");
  assert.match(body.headers["x-request-id"]!, /^[0-9a-f-]{36}$/);
  assert.equal(r.headers["x-request-id"], body.headers["x-request-id"]);
});

test("hop-by-hop headers, including those Connection names, are not forwarded", async () => {
  const raw = await rawExchange(
    ports.outbound,
    "GET /hop HTTP/1.1\r\nHost: payments\r\nConnection: close, x-hop\r\nx-hop: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic abc\r\nx-kept: yes\r\n\r\n",
  );
  const body = JSON.parse(raw.text.slice(raw.text.indexOf("\r\n\r\n") + 4)) as { headers: Record<string, string> };
  assert.equal(body.headers["x-kept"], "yes");
  for (const h of ["x-hop", "keep-alive", "te", "proxy-authorization"]) assert.equal(body.headers[h], undefined, h);
  assert.notEqual(body.headers["connection"], "close, x-hop");
});

test("forward-proxy mode (absolute-form target, as HTTP_PROXY sends) via real curl", async (t) => {
  if (!requireBinary(t, "curl")) return;
  const { stdout } = await run("curl", ["-sS", "-x", `http://127.0.0.1:${ports.outbound}`, "-H", "x-request-id: given-1", "http://payments/abs/path?q=2"]);
  const body = JSON.parse(stdout) as { name: string; url: string; headers: Record<string, string> };
  assert.equal(body.name, "payments");
  assert.equal(body.url, "/abs/path?q=2");
  assert.equal(body.headers["x-request-id"], "given-1", "an existing request id is passed on");
  assert.equal(body.headers["proxy-connection"], undefined);
});

test("inbound listener forwards to the app", async () => {
  const r = await fetch(`http://127.0.0.1:${ports.inbound}/hello`, { method: "POST", body: "hi" });
  const body = (await r.json()) as { name: string; body: string };
  assert.equal(body.name, "app");
  assert.equal(body.body, "hi");
});

test("unknown service: 503 with a code and a reason", async () => {
  const r = await request(`http://127.0.0.1:${ports.outbound}/`, { headers: { host: "nowhere" } });
  assert.equal(r.statusCode, 503);
  assert.equal(r.headers["x-outrigger-error"], "UNKNOWN_SERVICE");
  const body = (await r.body.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "UNKNOWN_SERVICE");
  assert.match(body.error.message, /nowhere/);
});

test("admin: healthz, readyz, config, metrics count requests", async () => {
  const base = `http://127.0.0.1:${ports.admin}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string; configVersion: string };
  assert.equal(ready.status, "ready");
  const cfg = (await (await fetch(`${base}/config`)).json()) as { version: string; resources: { kind: string }[] };
  assert.equal(cfg.version, ready.configVersion);
  assert.deepEqual(cfg.resources.map((r) => r.kind).sort(), ["Backend", "Sidecar"]);
  for (let i = 0; i < 5; i++) await (await request(`http://127.0.0.1:${ports.outbound}/count`, { headers: { host: "payments" } })).body.arrayBuffer();
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /outrigger_requests_total\{direction="outbound",peer_service="payments",route="payments\/default",method="GET",code="200",class="2xx",subset="",error_code="",service="checkout"\} (\d+)/.exec(text);
  assert.ok(m, text.slice(0, 500));
  assert.ok(Number(m[1]) >= 5);
});
