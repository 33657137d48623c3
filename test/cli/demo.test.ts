// `outrigger demo` end to end: traces through all four services within 30 s, then SIGINT stops every process it
// started (no orphans) and removes its temp data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { api, eventually } from "../support/collector.js";
import { alive, childPids, startDemo } from "../support/demo.js";

test("the demo shows traces through frontend, checkout, payments and inventory within 30 s and exits cleanly on SIGINT", { timeout: 180_000 }, async () => {
  const started = Date.now();
  const demo = await startDemo();
  // 30 s from the demo's "up" banner: process start-up itself depends on the machine's load (2 shared cores here).
  const t0 = Date.now();
  process.stdout.write(`# demo up after ${((t0 - started) / 1000).toFixed(1)} s\n`);
  let stopped = false;
  try {
    // Each hop has a server span (inbound sidecar) and each call a client span (outbound sidecar).
    const want = ["frontend:server", "frontend:client", "checkout:server", "checkout:client", "payments:server", "inventory:server"];
    const trace = await eventually(async () => {
      const r = await api({ url: demo.collector }, "/api/traces?service=inventory&limit=20", demo.token);
      for (const t of r.body.items ?? []) {
        const whole = await api({ url: demo.collector }, `/api/traces/${t.traceId}`, demo.token);
        const kinds = new Set((whole.body.items ?? []).map((s: any) => `${s.service}:${s.kind}`));
        if (want.every((k) => kinds.has(k))) return whole.body;
      }
      return undefined;
    }, 30_000 - (Date.now() - t0), "a whole trace through all four services");
    assert.equal(trace.services[0], "frontend", "the trace starts at the frontend");
    const byId = new Map(trace.items.map((s: any) => [s.spanId, s]));
    const pay = trace.items.find((s: any) => s.service === "payments");
    assert.equal((byId.get(pay.parentSpanId) as any)?.service, "checkout", "payments' server span is a child of checkout's client span");
    process.stdout.write(`# first whole trace through all four services ${((Date.now() - t0) / 1000).toFixed(1)} s after the demo was up (${((Date.now() - started) / 1000).toFixed(1)} s after starting it)\n`);

    const kids = childPids(demo.proc.child.pid!);
    assert.equal(kids.length, 7, `control plane + collector + 5 sidecars, got ${kids}`);
    const code = await demo.stop();
    stopped = true;
    assert.equal(code, 0);
    assert.match(demo.proc.stdout(), /stopped; removed /);
    await sleep(200);
    for (const pid of kids) assert.equal(alive(pid), false, `child ${pid} still alive after the demo exited`);
    assert.equal(existsSync(demo.dir), false, "temp data removed");
  } finally {
    if (!stopped) await demo.stop().catch(() => {});
  }
});
