// Mirroring through a real sidecar: copies reach the mirror with the body and a marker header, and a slow or
// dead mirror target leaves the primary's p99 within 10% of an unmirrored route measured at the same time.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { freePorts, freePort } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startInProcess, sample } from "../support/sidecars.js";
import { planFrom } from "../support/exchange.js";
import type { Sidecar } from "../../src/sidecar/server.js";

const PRIMARY_DELAY_MS = 150;
let primary: Echo, copies: Echo, app: Echo;
let slow: http.Server;
let slowPort: number, deadPort: number;
let ports: { outbound: number; admin: number };
let sidecar: Sidecar;

const mirrorRoute = (host: string, backend: string, extra = "") => `---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  rules:
    - backendRefs: [{ name: primary }]
      filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: ${backend} }, percent: 100${extra} } }]
`;

before(async () => {
  primary = await startEcho({ handler: (req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => res.writeHead(200, { "content-length": "7" }).end("primary"), PRIMARY_DELAY_MS));
  } });
  copies = await startEcho({ name: "copies" });
  app = await startEcho({ name: "app" });
  // A mirror target that accepts and never answers.
  slow = http.createServer(() => {});
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  slowPort = (slow.address() as AddressInfo).port;
  deadPort = await freePort(); // nothing listens here
  const [outbound, admin] = await freePorts(2);
  ports = { outbound: outbound!, admin: admin! };
  sidecar = await startInProcess(
    planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: checkout }
spec: { service: checkout, app: "127.0.0.1:${app.port}", outbound: ${ports.outbound}, admin: ${ports.admin} }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: primary }
spec: { endpoints: [{ address: "127.0.0.1:${primary.port}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: copies }
spec: { endpoints: [{ address: "127.0.0.1:${copies.port}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: slow }
spec: { endpoints: [{ address: "127.0.0.1:${slowPort}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: dead }
spec: { endpoints: [{ address: "127.0.0.1:${deadPort}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: plain }
spec:
  hosts: [plain]
  rules: [{ backendRefs: [{ name: primary }] }]
${mirrorRoute("to-copies", "copies", ", maxBodyBytes: 1024")}${mirrorRoute("to-slow", "slow", ", maxConcurrent: 8")}${mirrorRoute("to-dead", "dead")}`),
  );
});

after(async () => {
  slow?.closeAllConnections();
  await new Promise((r) => slow?.close(r));
  await sidecar?.close();
  await Promise.all([primary, copies, app].map((e) => e?.close()));
});

const call = async (host: string, body?: string) => {
  const t0 = performance.now();
  const r = await request(`http://127.0.0.1:${ports.outbound}/pay?x=1`, { method: body ? "POST" : "GET", headers: { host, ...(body ? { "content-type": "text/plain" } : {}) }, body });
  const text = await r.body.text();
  return { status: r.statusCode, text, ms: performance.now() - t0 };
};

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1]!;

test("copies carry the method, path and body with x-outrigger-mirror; bodies over maxBodyBytes are not copied", async () => {
  const r = await call("to-copies", "hello mirror");
  assert.equal(r.status, 200);
  assert.equal(r.text, "primary", "the primary's answer is what the client gets");
  const deadline = Date.now() + 5000;
  while (copies.requests.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  const copy = copies.requests[0]!;
  assert.equal(copy.method, "POST");
  assert.equal(copy.url, "/pay?x=1");
  assert.equal(copy.body, "hello mirror");
  assert.equal(copy.headers["x-outrigger-mirror"], "1");
  assert.equal((await call("to-copies", "x".repeat(2048))).status, 200);
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(copies.requests.length, 1, "a 2 KiB body is over the 1 KiB cap: not mirrored");
  const m = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
  assert.equal(sample(m, "outrigger_mirror_requests_total", { backend: "copies", result: "sent" }), 1);
  assert.equal(sample(m, "outrigger_mirror_requests_total", { backend: "copies", result: "dropped_body_size" }), 1);
});

test("a slow or dead mirror target leaves primary p99 within 10% of an unmirrored route", async (t) => {
  const lat: Record<string, number[]> = { plain: [], "to-slow": [], "to-dead": [] };
  const ROUNDS = 360;
  let round = 0;
  // Paired rounds: each round calls the three routes at the same instant, so a stall of this busy machine hits
  // all of them alike and the comparison is about the mirror, not about when a request happened to run.
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (round++ < ROUNDS) {
        const rs = await Promise.all([call("plain"), call("to-slow"), call("to-dead")]);
        for (const [i, h] of (["plain", "to-slow", "to-dead"] as const).entries()) {
          assert.equal(rs[i]!.status, 200);
          assert.equal(rs[i]!.text, "primary");
          lat[h]!.push(rs[i]!.ms);
        }
      }
    }),
  );
  const base = p99(lat.plain!);
  t.diagnostic(`primary p99: plain ${base.toFixed(1)} ms, slow mirror ${p99(lat["to-slow"]!).toFixed(1)} ms, dead mirror ${p99(lat["to-dead"]!).toFixed(1)} ms`);
  for (const h of ["to-slow", "to-dead"]) {
    const p = p99(lat[h]!);
    assert.ok(p <= base * 1.1, `${h}: primary p99 ${p.toFixed(1)} ms vs ${base.toFixed(1)} ms without a mirror (> 10%)`);
  }
  const m = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
  assert.ok((sample(m, "outrigger_mirror_requests_total", { backend: "slow", result: "dropped_concurrency" }) ?? 0) > 0, "the slow mirror's copies are bounded (maxConcurrent 8) and the excess counted");
  assert.ok((sample(m, "outrigger_mirror_requests_total", { backend: "dead", result: "failed" }) ?? 0) > 0, "copies to the dead target are counted as failed");
});
