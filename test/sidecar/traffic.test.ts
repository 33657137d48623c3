// Traffic control end to end through real sidecar listeners on loopback (in-process, so plans can be swapped):
// a weighted split, 429 with its headers, the retry budget against an always-failing upstream, injected
// delays, the circuit breaker opening/probing/closing, and limiter state across hot reloads.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startInProcess, sample } from "../support/sidecars.js";
import { planFrom } from "../support/exchange.js";
import type { Sidecar } from "../../src/sidecar/server.js";

let v1: Echo, v2: Echo, failing: Echo, flaky: Echo, app: Echo;
let flakyStatus = 503;
let failingHits = 0;
let ports: { inbound: number; outbound: number; admin: number };
let sidecar: Sidecar;

const config = (rateLimit = 3, extra = "") => `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: checkout }
spec: { service: checkout, app: "127.0.0.1:${app.port}", inbound: ${ports.inbound}, outbound: ${ports.outbound}, admin: ${ports.admin} }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  endpoints:
    - { address: "127.0.0.1:${v1.port}", labels: { version: v1 } }
    - { address: "127.0.0.1:${v2.port}", labels: { version: v2 } }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: failing }
spec: { endpoints: [{ address: "127.0.0.1:${failing.port}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: flaky }
spec: { endpoints: [{ address: "127.0.0.1:${flaky.port}" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
    - backendRefs:
        - { name: payments, subset: v1, weight: 95 }
        - { name: payments, subset: v2, weight: 5 }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: failing }
spec:
  hosts: [failing]
  rules:
    - backendRefs: [{ name: failing }]
      retry: { attempts: 3, backoff: { base: 1ms, max: 2ms }, budget: { ratio: 0.2, minPerSecond: 1 } }
---
apiVersion: outrigger.dev/v1alpha1
kind: BackendPolicy
metadata: { name: flaky }
spec:
  targetRefs: [{ kind: Backend, name: flaky }]
  circuitBreaker: { consecutiveFailures: 3, openTime: 400ms, halfOpenRequests: 1 }
---
apiVersion: outrigger.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: per-client }
spec:
  algorithm: SlidingWindow
  limit: { requests: ${rateLimit}, per: 1m }
  key: [{ type: Header, name: x-client-id }]
---
apiVersion: outrigger.dev/v1alpha1
kind: FaultPolicy
metadata: { name: slow-when-asked }
spec:
  match: { headers: [{ name: x-outrigger-fault, value: delay }] }
  delay: { fixed: 200ms }
${extra}`;

before(async () => {
  v1 = await startEcho({ name: "v1" });
  v2 = await startEcho({ name: "v2" });
  app = await startEcho({ name: "app" });
  failing = await startEcho({ handler: (_q, s) => ((failingHits++), s.writeHead(503, { "content-length": "4" }).end("down")) });
  flaky = await startEcho({ handler: (_q, s) => s.writeHead(flakyStatus, { "content-length": "2" }).end("ok") });
  const [inbound, outbound, admin] = await freePorts(3);
  ports = { inbound: inbound!, outbound: outbound!, admin: admin! };
  sidecar = await startInProcess(planFrom(config()));
});

after(async () => {
  await sidecar?.close();
  await Promise.all([v1, v2, app, failing, flaky].map((e) => e?.close()));
});

const out = async (host: string, path = "/", headers: Record<string, string> = {}) => {
  const r = await request(`http://127.0.0.1:${ports.outbound}${path}`, { headers: { host, ...headers } });
  const body = await r.body.text();
  return { status: r.statusCode, headers: r.headers, body };
};
const inbound = async (headers: Record<string, string> = {}) => {
  const r = await request(`http://127.0.0.1:${ports.inbound}/x`, { headers });
  const body = await r.body.text();
  return { status: r.statusCode, headers: r.headers, body };
};

test("end to end: a 95/5 split over 1,000 requests through the sidecar lands near 5% (±2.5%)", async () => {
  const counts: Record<string, number> = { v1: 0, v2: 0 };
  let i = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (i < 1000) {
        i++;
        const r = await out("payments");
        assert.equal(r.status, 200);
        counts[(JSON.parse(r.body) as { name: string }).name]!++;
      }
    }),
  );
  const share = counts.v2! / (counts.v1! + counts.v2!);
  assert.ok(share >= 0.025 && share <= 0.075, `v2 share ${(share * 100).toFixed(1)}%`);
  const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
  assert.ok(metrics.includes("outrigger_requests_total"), "requests are counted");
});

test("over the rate limit: 429 RATE_LIMITED with Retry-After, RateLimit and RateLimit-Policy", async () => {
  for (let i = 0; i < 3; i++) assert.equal((await inbound({ "x-client-id": "alice" })).status, 200);
  const r = await inbound({ "x-client-id": "alice" });
  assert.equal(r.status, 429);
  assert.equal(r.headers["x-outrigger-error"], "RATE_LIMITED");
  assert.ok(Number(r.headers["retry-after"]) >= 1);
  assert.equal(r.headers["ratelimit-policy"], `"per-client";q=3;w=60`);
  assert.match(String(r.headers["ratelimit"]), /^"per-client";r=0;t=\d+$/);
  assert.equal((await inbound({ "x-client-id": "bob" })).status, 200, "other clients have their own quota");
});

test("hot reload: limiter state survives an unrelated change, and resets when the policy changes", async () => {
  for (let i = 0; i < 3; i++) await inbound({ "x-client-id": "reload" });
  assert.equal((await inbound({ "x-client-id": "reload" })).status, 429);
  const unrelated = `---
apiVersion: outrigger.dev/v1alpha1
kind: FaultPolicy
metadata: { name: unrelated }
spec:
  match: { headers: [{ name: x-never, value: "1" }] }
  abort: { status: 500 }
`;
  sidecar.swap(planFrom(config(3, unrelated)));
  assert.equal((await inbound({ "x-client-id": "reload" })).status, 429, "same policy: the client is still over its limit");
  sidecar.swap(planFrom(config(5, unrelated)));
  assert.equal((await inbound({ "x-client-id": "reload" })).status, 200, "a changed policy starts fresh");
  sidecar.swap(planFrom(config()));
});

test("the retry budget caps retries against an always-failing upstream", async () => {
  failingHits = 0;
  const N = 200;
  for (let i = 0; i < N; i++) assert.equal((await out("failing")).status, 503);
  const retries = failingHits - N;
  // attempts: 3 would mean 600 retries; the budget allows 0.2 × 200 + 1/s × 10 s = 50.
  assert.ok(retries <= 50, `${retries} retries exceed the budget`);
  assert.ok(retries >= 35, `${retries} retries: the budget should be spent`);
  const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
  assert.ok((sample(metrics, "outrigger_retry_budget_exhausted_total", { route: "failing/0" }) ?? 0) > 0);
  assert.equal(sample(metrics, "outrigger_retries_total", { route: "failing/0", reason: "503" }), retries);
});

test("an injected delay is measured on the wire, only for requests that ask for it", async () => {
  const t0 = performance.now();
  assert.equal((await inbound({ "x-outrigger-fault": "delay" })).status, 200);
  const delayed = performance.now() - t0;
  assert.equal((await inbound()).status, 200);
  assert.ok(delayed >= 195 && delayed < 3000, `delayed request took ${delayed.toFixed(0)} ms`);
  const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
  assert.equal(sample(metrics, "outrigger_faults_injected_total", { policy: "slow-when-asked", type: "delay" }), 1, "the request without the header was not delayed");
});

test("the circuit opens after consecutive failures, probes after its open time, and closes on success", async () => {
  flakyStatus = 503;
  for (let i = 0; i < 3; i++) assert.equal((await out("flaky")).status, 503);
  const open = await out("flaky");
  assert.equal(open.status, 503);
  assert.equal(open.headers["x-outrigger-error"], "CIRCUIT_OPEN");
  const ready = (await (await fetch(`http://127.0.0.1:${ports.admin}/readyz`)).json()) as { traffic?: { circuits?: string[] } };
  assert.deepEqual(ready.traffic?.circuits, ["flaky:open"]);
  await sleep(450);
  flakyStatus = 200;
  const probe = await out("flaky");
  assert.equal(probe.status, 200, "the half-open probe reached the recovered upstream");
  assert.equal((await out("flaky")).status, 200, "closed again");
});

test("envelope kind control: the app asks which route, backend and limits a request would get", async () => {
  const { EnvelopeServer } = await import("../../src/sidecar/envelope.js");
  const pino = (await import("pino")).default;
  const server = new EnvelopeServer({ plan: () => sidecar.currentPlan, logger: pino({ level: "silent" }) });
  const [port] = await freePorts(1);
  await server.listen({ host: "127.0.0.1", port: port!, key: `127.0.0.1:${port}` });
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/envelope`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ v: 1, kind: "control", name: "explain", query: { method: "GET", url: "http://payments/pay", headers: { "x-client-id": "z" } } }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { results: { route: { id: string }; backends: { subset: string; percent: number }[] }[] };
    assert.equal(body.results[0]!.route.id, "payments/0");
    assert.deepEqual(body.results[0]!.backends.map((b) => [b.subset, b.percent]), [["v1", 95], ["v2", 5]]);
    const inbound = (await (await fetch(`http://127.0.0.1:${port}/v1/envelope`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ v: 1, kind: "control", name: "explain", query: { method: "GET", url: "http://checkout/x", direction: "inbound", headers: { "x-client-id": "z" } } }) })).json()) as { results: { rateLimits: { policy: string; key: string }[] }[] };
    assert.equal(inbound.results[0]!.rateLimits[0]!.policy, "per-client");
  } finally {
    await server.close();
  }
});
