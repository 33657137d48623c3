// Retries: which outcomes retry, replay safety, Retry-After, back-off bounds, and the budget against an
// always-failing upstream (the policy alone with a fake next).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { outboundRoute } from "../../../src/sidecar/policies/route.js";
import { retry, backoffMs, retryAfterMs } from "../../../src/sidecar/policies/retry.js";
import { RetryBudget } from "../../../src/sidecar/policies/retry-budget.js";
import { timeout } from "../../../src/sidecar/policies/timeout.js";
import { MeshError } from "../../../src/errors.js";
import type { CompiledRule } from "../../../src/config/compile/routes.js";
import { exchange, fakeNext, ok, planFrom, run } from "../../support/exchange.js";

const planWith = (retryYaml: string, timeouts = "") =>
  planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec: { endpoints: [{ address: "127.0.0.1:9001" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: r }
spec:
  hosts: [svc]
  rules:
    - backendRefs: [{ name: svc }]
      retry: ${retryYaml}
${timeouts}`);

function chain(plan: ReturnType<typeof planFrom>, budgets = new Map<string, RetryBudget>()) {
  const budget = (rule: CompiledRule) => budgets.get(rule.id) ?? budgets.set(rule.id, new RetryBudget(rule.retry!.budgetRatio, rule.retry!.budgetMinPerSecond)).get(rule.id)!;
  return [outboundRoute(plan), timeout(), retry({ budget })];
}

test("retries 503 up to `attempts`, records the count in notes, and returns the last reply", async () => {
  const plan = planWith(`{ attempts: 2, backoff: { base: 1ms, max: 2ms }, budget: { ratio: 1, minPerSecond: 100 } }`);
  const next = fakeNext(() => ok(503));
  const ex = exchange({ host: "svc" });
  const reply = await run(chain(plan), ex, next);
  assert.equal(reply.status, 503);
  assert.equal(next.calls.length, 3);
  assert.equal(ex.notes.retries, 2);
});

test("a success after a failure stops retrying; non-listed statuses never retry", async () => {
  const plan = planWith(`{ attempts: 3, on: ["503"], backoff: { base: 1ms, max: 1ms } }`);
  const flaky = fakeNext((_ex, n) => ok(n === 1 ? 503 : 200));
  const ex = exchange({ host: "svc" });
  assert.equal((await run(chain(plan), ex, flaky)).status, 200);
  assert.equal(flaky.calls.length, 2);
  assert.equal(ex.notes.retries, 1);
  const fivehundred = fakeNext(() => ok(500));
  await run(chain(plan), exchange({ host: "svc" }), fivehundred);
  assert.equal(fivehundred.calls.length, 1);
});

test("connect failures retry for any method; other failures of a POST do not", async () => {
  const plan = planWith(`{ attempts: 2, backoff: { base: 1ms, max: 1ms } }`);
  const refused = fakeNext(() => {
    throw new MeshError("UPSTREAM_CONNECT_FAILED", "(ECONNREFUSED)");
  });
  await assert.rejects(run(chain(plan), exchange({ host: "svc", method: "POST" }), refused), /refused/);
  assert.equal(refused.calls.length, 3);
  const failing = fakeNext(() => ok(503));
  await run(chain(plan), exchange({ host: "svc", method: "POST" }), failing);
  assert.equal(failing.calls.length, 1, "a POST that reached the upstream is not replayed");
});

test("a body under the cap is buffered and replayed identically on each try", async () => {
  const plan = planWith(`{ attempts: 2, backoff: { base: 1ms, max: 1ms }, maxBufferedBodyBytes: 1024 }`);
  const bodies: string[] = [];
  const next = fakeNext(async (ex) => {
    const chunks: Buffer[] = [];
    for await (const c of ex.body as Readable) chunks.push(c as Buffer);
    bodies.push(Buffer.concat(chunks).toString());
    return ok(bodies.length < 3 ? 503 : 200);
  });
  const ex = exchange({ host: "svc", method: "PUT", body: "payload-123", headers: { "content-length": "11" } });
  assert.equal((await run(chain(plan), ex, next)).status, 200);
  assert.deepEqual(bodies, ["payload-123", "payload-123", "payload-123"]);
});

test("a streamed body over the cap is not retried once it was read", async () => {
  const plan = planWith(`{ attempts: 2, backoff: { base: 1ms, max: 1ms }, maxBufferedBodyBytes: 4 }`);
  const next = fakeNext(async (ex) => {
    for await (const _ of ex.body as Readable);
    return ok(503);
  });
  await run(chain(plan), exchange({ host: "svc", method: "PUT", body: "more than four", headers: { "content-length": "14" } }), next);
  assert.equal(next.calls.length, 1);
});

test("Retry-After is honoured when short, and a long one returns the response instead", async () => {
  const plan = planWith(`{ attempts: 1, backoff: { base: 1ms, max: 1ms }, maxRetryAfter: 2s }`);
  const t0 = performance.now();
  const short = fakeNext((_ex, n) => ok(n === 1 ? 503 : 200, n === 1 ? { "retry-after": "1" } : {}));
  assert.equal((await run(chain(plan), exchange({ host: "svc" }), short)).status, 200);
  const waited = performance.now() - t0;
  assert.ok(waited >= 950 && waited < 3000, `waited ${waited.toFixed(0)} ms for Retry-After: 1`);
  const long = fakeNext(() => ok(503, { "retry-after": "120" }));
  assert.equal((await run(chain(plan), exchange({ host: "svc" }), long)).status, 503);
  assert.equal(long.calls.length, 1);
  assert.equal(retryAfterMs(ok(503, { "retry-after": new Date(Date.now() + 5000).toUTCString() }))! > 3000, true);
});

test("full-jitter back-off stays within [0, min(max, base·2^(n-1))]", () => {
  const plan = planWith(`{ attempts: 5, backoff: { base: 10ms, max: 50ms } }`).outbound.rules[0]!.retry!;
  for (let n = 1; n <= 5; n++) {
    const cap = Math.min(50, 10 * 2 ** (n - 1));
    for (let i = 0; i < 200; i++) {
      const b = backoffMs(plan, n);
      assert.ok(b >= 0 && b <= cap, `retry ${n}: ${b} > ${cap}`);
    }
    assert.equal(backoffMs(plan, n, () => 0.999999) > cap * 0.99, true);
  }
});

test("the retry budget caps retries against an always-failing upstream (20% + min/s, as Linkerd)", async () => {
  const plan = planWith(`{ attempts: 3, backoff: { base: 0ms, max: 0ms }, budget: { ratio: 0.2, minPerSecond: 1 } }`);
  const next = fakeNext(() => ok(503));
  const budgets = new Map<string, RetryBudget>();
  const N = 500;
  for (let i = 0; i < N; i++) await run(chain(plan, budgets), exchange({ host: "svc" }), next);
  const retries = next.calls.length - N;
  // Without a budget this would be 3 × 500 = 1500 retries; the budget allows 0.2 × 500 + 1 × 10 s = 110.
  assert.ok(retries <= 110, `retries ${retries} exceed the budget of 110`);
  assert.ok(retries >= 100, `retries ${retries}: the budget should be used, not starved`);
});

test("the request timeout bounds all tries and back-off: REQUEST_TIMEOUT, upstream attempt aborted", async () => {
  const plan = planWith(`{ attempts: 5, backoff: { base: 50ms, max: 50ms } }`, `      timeouts: { request: 200ms, backendRequest: 80ms }`);
  let aborted = 0;
  const next = fakeNext(
    (ex) =>
      new Promise((_, reject) => {
        assert.equal(ex.tryTimeoutMs, 80, "per-try timeout handed to the forwarder");
        let settled = false;
        const t = setTimeout(() => {
          settled = true;
          reject(new MeshError("UPSTREAM_TIMEOUT", "(UND_ERR_HEADERS_TIMEOUT)"));
        }, ex.tryTimeoutMs);
        ex.signal.addEventListener("abort", () => {
          if (!settled) aborted++;
          clearTimeout(t);
          reject(ex.signal.reason);
        });
      }),
  );
  const t0 = performance.now();
  await assert.rejects(run(chain(plan), exchange({ host: "svc" }), next), (e: unknown) => e instanceof MeshError && e.code === "REQUEST_TIMEOUT");
  const took = performance.now() - t0;
  assert.ok(took >= 195 && took < 600, `took ${took.toFixed(0)} ms`);
  assert.ok(next.calls.length >= 2 && next.calls.length <= 4, `tries ${next.calls.length}`);
  assert.ok(aborted <= 1, "only the try in flight at the deadline is aborted");
});
