// Fault injection: delays measured, aborts with their status, percentages, header-gated faults, notes.
import { test } from "node:test";
import assert from "node:assert/strict";
import client from "prom-client";
import { inboundRoute } from "../../../src/sidecar/policies/route.js";
import { fault } from "../../../src/sidecar/policies/fault.js";
import { MeshError } from "../../../src/errors.js";
import { exchange, fakeNext, planFrom, run } from "../../support/exchange.js";

const counter = () => new client.Counter({ name: "f_total", help: "x", labelNames: ["direction", "policy", "type"] as const, registers: [] });

const plan = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: FaultPolicy
metadata: { name: slow }
spec:
  delay: { min: 100ms, max: 150ms, percent: 100 }
---
apiVersion: outrigger.dev/v1alpha1
kind: FaultPolicy
metadata: { name: chaos }
spec:
  match: { headers: [{ name: x-outrigger-fault, value: abort }] }
  abort: { status: 503, percent: 100 }
---
apiVersion: outrigger.dev/v1alpha1
kind: FaultPolicy
metadata: { name: half }
spec:
  match: { headers: [{ name: x-experiment, type: Present }] }
  abort: { status: 500, percent: 50 }
`);

test("a delay in a range is injected, measured, and recorded in notes", async () => {
  const c = counter();
  const p = fault(plan.traffic.faults.filter((f) => f.name === "slow"), c);
  for (let i = 0; i < 5; i++) {
    const ex = exchange({ direction: "inbound" });
    const t0 = performance.now();
    await run([inboundRoute(plan), p], ex, fakeNext());
    const took = performance.now() - t0;
    assert.ok(took >= 99 && took < 2000, `delay took ${took.toFixed(1)} ms (want 100-150 ms + scheduling)`);
    const ms = Number(/^delay=(\d+)ms$/.exec(String(ex.notes.fault))?.[1]);
    assert.ok(ms >= 100 && ms <= 150, String(ex.notes.fault));
  }
  assert.equal((await c.get()).values[0]!.value, 5);
});

test("a header-gated abort answers with its status only for requests carrying the header", async () => {
  const p = fault(plan.traffic.faults.filter((f) => f.name === "chaos"), counter());
  await assert.rejects(run([inboundRoute(plan), p], exchange({ direction: "inbound", headers: { "x-outrigger-fault": "abort" } }), fakeNext()), (e: unknown) => e instanceof MeshError && e.code === "FAULT_INJECTED" && e.status === 503);
  const next = fakeNext();
  await run([inboundRoute(plan), p], exchange({ direction: "inbound" }), next);
  assert.equal(next.calls.length, 1);
});

test("a 50% abort aborts about half", async () => {
  const p = fault(plan.traffic.faults.filter((f) => f.name === "half"), counter());
  let aborted = 0;
  for (let i = 0; i < 2000; i++) {
    try {
      await run([inboundRoute(plan), p], exchange({ direction: "inbound", headers: { "x-experiment": "1" } }), fakeNext());
    } catch {
      aborted++;
    }
  }
  assert.ok(aborted > 900 && aborted < 1100, `aborted ${aborted}/2000`);
});

test("FaultPolicy without delay or abort, or with min > max, is a config error", () => {
  assert.throws(() => planFrom(`apiVersion: outrigger.dev/v1alpha1\nkind: FaultPolicy\nmetadata: { name: x }\nspec: {}\n`), /needs a delay, an abort/);
  assert.throws(() => planFrom(`apiVersion: outrigger.dev/v1alpha1\nkind: FaultPolicy\nmetadata: { name: x }\nspec: { delay: { min: 2s, max: 1s } }\n`), /must not exceed max/);
});
