// Circuit breaking: the breaker opens on consecutive failures, half-opens after its (growing) open time, lets
// a probe through, closes on success; pool limits answer BACKEND_OVERFLOW; outlier detection ejects within
// maxEjectionPercent. Concurrency limits answer OVERLOADED and never shed health checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { outboundRoute, inboundRoute } from "../../../src/sidecar/policies/route.js";
import { BackendGuard, circuit } from "../../../src/sidecar/policies/circuit.js";
import { concurrency, ConcurrencyState } from "../../../src/sidecar/policies/concurrency.js";
import type { ConcurrencyPlan } from "../../../src/config/compile/traffic.js";
import { Upstreams } from "../../../src/sidecar/upstream/pools.js";
import { MeshError } from "../../../src/errors.js";
import { exchange, fakeNext, ok, planFrom, run } from "../../support/exchange.js";

const plan = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec:
  endpoints:
    - { address: "127.0.0.1:9001" }
    - { address: "127.0.0.1:9002" }
    - { address: "127.0.0.1:9003" }
    - { address: "127.0.0.1:9004" }
---
apiVersion: outrigger.dev/v1alpha1
kind: BackendPolicy
metadata: { name: svc-protect }
spec:
  targetRefs: [{ kind: Backend, name: svc }]
  connectionPool: { maxConnections: 2, maxPendingRequests: 1 }
  outlierDetection: { consecutive5xx: 3, baseEjectionTime: 1s, maxEjectionPercent: 50 }
  circuitBreaker: { consecutiveFailures: 5, openTime: 1s, maxOpenTime: 10s, halfOpenRequests: 1 }
---
apiVersion: outrigger.dev/v1alpha1
kind: ConcurrencyPolicy
metadata: { name: cap }
spec:
  maxConcurrent: 2
  retryAfter: 2s
`);

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof MeshError ? e.code : String(e)));

test("the breaker opens after consecutive failures, probes when half-open, reopens for longer, then closes", async () => {
  let now = 0;
  const guard = new BackendGuard(plan.traffic.backendPolicies.get("svc")!, () => now);
  const upstreams = new Upstreams({ connections: 1, connectTimeoutMs: 100, headersTimeoutMs: 100, bodyTimeoutMs: 100 });
  const policies = [outboundRoute(plan), circuit(() => guard, upstreams)];
  let status = 503;
  const next = fakeNext(() => ok(status));
  for (let i = 0; i < 5; i++) assert.equal(await code(run(policies, exchange({ host: "svc" }), next)), "ok");
  assert.equal(guard.state, "open");
  const err = await run(policies, exchange({ host: "svc" }), next).catch((e: MeshError) => e);
  assert.equal((err as MeshError).code, "CIRCUIT_OPEN");
  assert.equal((err as MeshError).headers?.["retry-after"], "1");
  assert.equal(next.calls.length, 5, "an open circuit sends nothing upstream");
  now = 1000; // open time passed: half-open, one probe; it fails -> open again, now for 2 s
  assert.equal(await code(run(policies, exchange({ host: "svc" }), next)), "ok");
  assert.equal(next.calls.length, 6);
  assert.equal(guard.state, "open");
  now = 2500;
  assert.equal(await code(run(policies, exchange({ host: "svc" }), next)), "CIRCUIT_OPEN", "the second opening lasts 2 s");
  now = 3001;
  status = 200;
  assert.equal(await code(run(policies, exchange({ host: "svc" }), next)), "ok");
  assert.equal(guard.state, "closed");
  assert.deepEqual(guard.transitions, ["open", "half-open", "open", "half-open", "closed"]);
  await upstreams.close();
});

test("while half-open only halfOpenRequests probes pass at once", async () => {
  let now = 0;
  const guard = new BackendGuard(plan.traffic.backendPolicies.get("svc")!, () => now);
  for (let i = 0; i < 5; i++) guard.record(true, false);
  now = 1000;
  assert.equal(guard.admitBreaker(), true);
  assert.throws(() => guard.admitBreaker(), /circuit breaker is open/);
});

test("pool limits: maxConnections at once, maxPendingRequests waiting, the rest BACKEND_OVERFLOW", async () => {
  const guard = new BackendGuard({ ...plan.traffic.backendPolicies.get("svc")!, breaker: undefined });
  const upstreams = new Upstreams({ connections: 1, connectTimeoutMs: 100, headersTimeoutMs: 100, bodyTimeoutMs: 100 });
  const policies = [outboundRoute(plan), circuit(() => guard, upstreams)];
  const gates: (() => void)[] = [];
  const next = fakeNext(() => new Promise((r) => gates.push(() => r(ok()))));
  const results = [0, 1, 2, 3].map(() => code(run(policies, exchange({ host: "svc" }), next)));
  await new Promise((r) => setImmediate(r));
  assert.equal(next.calls.length, 2, "two at once");
  assert.equal(guard.pending, 1, "one waits");
  assert.equal(await results[3], "BACKEND_OVERFLOW");
  gates.shift()!();
  await results[0];
  await new Promise((r) => setImmediate(r));
  assert.equal(next.calls.length, 3, "the waiter got the freed slot");
  while (gates.length) gates.shift()!();
  assert.deepEqual(await Promise.all(results.slice(0, 3)), ["ok", "ok", "ok"]);
  assert.equal(guard.active, 0);
  await upstreams.close();
});

test("outlier detection ejects an endpoint after consecutive 5xx, never more than maxEjectionPercent", async () => {
  const upstreams = new Upstreams({ connections: 1, connectTimeoutMs: 100, headersTimeoutMs: 100, bodyTimeoutMs: 100 });
  upstreams.sync(plan);
  const guard = new BackendGuard({ ...plan.traffic.backendPolicies.get("svc")!, breaker: undefined, pool: undefined });
  const policies = [outboundRoute(plan), circuit(() => guard, upstreams)];
  const eps = ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"];
  for (const ep of eps)
    for (let i = 0; i < 3; i++) {
      const next = fakeNext((ex) => {
        ex.notes.endpoint = ep;
        return ok(502);
      });
      await run(policies, exchange({ host: "svc" }), next);
    }
  const now = Date.now();
  const ejected = eps.filter((ep) => !upstreams.get(ep)!.state.isAvailable(now));
  assert.deepEqual(ejected, eps.slice(0, 2), "50% of 4 endpoints: the third bad one stays in");
  await upstreams.close();
});

test("concurrency limit: OVERLOADED with Retry-After over maxConcurrent; health checks are never shed", async () => {
  const states = new Map<string, ConcurrencyState>();
  const stateOf = (p: ConcurrencyPlan) => states.get(p.hash) ?? states.set(p.hash, new ConcurrencyState(p)).get(p.hash)!;
  const policies = [inboundRoute(plan), concurrency(plan.traffic.concurrency, stateOf)];
  const gates: (() => void)[] = [];
  const next = fakeNext(() => new Promise((r) => gates.push(() => r(ok()))));
  const a = run(policies, exchange({ direction: "inbound" }), next);
  const b = run(policies, exchange({ direction: "inbound" }), next);
  const err = await run(policies, exchange({ direction: "inbound" }), next).catch((e: MeshError) => e);
  assert.equal((err as MeshError).code, "OVERLOADED");
  assert.equal((err as MeshError).status, 503);
  assert.equal((err as MeshError).headers?.["retry-after"], "2");
  const health = run(policies, exchange({ direction: "inbound", path: "/healthz" }), next);
  await new Promise((r) => setImmediate(r));
  assert.equal(next.calls.length, 3, "the health check went through while saturated");
  while (gates.length) gates.shift()!();
  await Promise.all([a, b, health]);
  assert.equal(await code(run(policies, exchange({ direction: "inbound" }), fakeNext())), "ok", "slots are released");
});

test("latency-gradient limit shrinks when latency inflates and recovers when it falls", () => {
  const p = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: ConcurrencyPolicy
metadata: { name: adaptive }
spec: { adaptive: { type: LatencyGradient, minLimit: 2, maxLimit: 100 } }
`).traffic.concurrency[0]!;
  const s = new ConcurrencyState(p);
  for (let i = 0; i < 50; i++) s.onRtt(10);
  const healthy = s.effectiveLimit;
  for (let i = 0; i < 200; i++) s.onRtt(100);
  const strained = s.effectiveLimit;
  assert.ok(strained < healthy / 2, `limit ${healthy} -> ${strained} under 10x latency`);
  assert.ok(strained >= 2);
  for (let i = 0; i < 400; i++) s.onRtt(10);
  assert.ok(s.effectiveLimit > strained * 2, `recovers to ${s.effectiveLimit}`);
});

test("event-loop-lag shedding halves the limit under lag and creeps back", () => {
  const p = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: ConcurrencyPolicy
metadata: { name: lag }
spec: { adaptive: { type: EventLoopLag, maxEventLoopLag: 50ms, minLimit: 1, maxLimit: 64 } }
`).traffic.concurrency[0]!;
  const s = new ConcurrencyState(p);
  s.inflight = 40;
  s.onLag(200);
  assert.equal(s.effectiveLimit, 20);
  s.onLag(10);
  assert.equal(s.effectiveLimit, 21);
});
