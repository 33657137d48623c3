// Anomaly detection alone, on a store fed with synthetic spans at chosen times: each subject against its own
// baseline (volume spikes and drops per sender, fault/5xx spikes per service), and split deviation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AnomalyDetector, DEFAULT_ANOMALY } from "../../src/collector/anomalies.js";
import type { SpanRecord } from "../../src/collector/otlp/normalize.js";
import { DEFAULT_STORE, Store } from "../../src/collector/store.js";

const T0 = 1_800_000_000_000;
let n = 0;
const span = (o: Partial<SpanRecord> & { at: number }): SpanRecord => ({
  traceId: (++n).toString(16).padStart(32, "0"),
  spanId: n.toString(16).padStart(16, "0"),
  parentSpanId: "ab".repeat(8),
  name: "GET",
  kind: "server",
  service: "payments",
  version: "v1",
  startMs: o.at,
  durationMs: 5,
  status: 0,
  httpStatus: 200,
  route: "pay",
  errorCode: "",
  peer: "",
  backend: "",
  attributes: {},
  resource: {},
  events: [],
  ...o,
});

const store = () => new Store({ ...DEFAULT_STORE, bucketMs: 1000 });

test("volume: a sender far above or below its own baseline is flagged; a steady one is not", () => {
  const s = store();
  // 5 minutes of baseline: checkout 10 items/s, payments 10 items/s.
  for (let t = T0; t < T0 + 300_000; t += 1000) {
    s.volume.add("checkout", 10, t);
    s.volume.add("payments", 10, t);
  }
  // Then 30 s: checkout jumps to 100/s, payments goes quiet.
  for (let t = T0 + 300_000; t < T0 + 330_000; t += 1000) s.volume.add("checkout", 100, t);
  const d = new AnomalyDetector(s, DEFAULT_ANOMALY);
  const found = d.detect([], T0 + 330_000);
  assert.deepEqual(found.map((f) => `${f.kind}:${f.subject}`).sort(), ["volume_drop:payments", "volume_spike:checkout"]);
  const spike = found.find((f) => f.kind === "volume_spike")!;
  assert.ok(Math.abs(spike.value - 100) < 1 && Math.abs(spike.baseline - 10) < 1, JSON.stringify(spike));
  // A sender with no history yet is not judged.
  const fresh = store();
  for (let t = T0; t < T0 + 10_000; t += 1000) fresh.volume.add("new", 1000, t);
  assert.deepEqual(new AnomalyDetector(fresh).detect([], T0 + 10_000), []);
});

test("fault and 5xx spikes per service; raised once, logged, exported, cleared when they stop", () => {
  const s = store();
  for (let t = T0; t < T0 + 300_000; t += 100) s.addSpan(span({ at: t }));
  for (let t = T0 + 300_000; t < T0 + 330_000; t += 100) s.addSpan(span({ at: t, httpStatus: t % 200 === 0 ? 503 : 200, errorCode: t % 200 === 0 ? "FAULT_INJECTED" : "" }));
  const logs: string[] = [];
  const logger = { warn: (o: any) => logs.push(`raised ${o.kind}`), info: (o: any) => logs.push(`cleared ${o.kind}`) } as any;
  const d = new AnomalyDetector(s, DEFAULT_ANOMALY, logger);
  const raised = d.evaluate([], T0 + 330_000);
  assert.deepEqual(raised.map((a) => a.kind).sort(), ["error_5xx_spike", "fault_spike"]);
  assert.equal(d.evaluate([], T0 + 330_500).length, 0, "still active: not raised twice");
  assert.equal(d.list().active.length, 2);
  assert.equal(d.activeByKind().get("fault_spike"), 1);
  // Healthy again for a while: both clear.
  for (let t = T0 + 330_000; t < T0 + 400_000; t += 100) s.addSpan(span({ at: t }));
  d.evaluate([], T0 + 400_000);
  assert.equal(d.list().active.length, 0);
  assert.deepEqual(logs.sort(), ["cleared error_5xx_spike", "cleared fault_spike", "raised error_5xx_spike", "raised fault_spike"]);
  assert.equal(d.list().recent.length, 2);
});

test("split deviation: observed shares off the configured weights beyond the tolerance", () => {
  const configured = [{ route: "payments", service: "payments", rule: 0, weights: { v1: 90, v2: 10 } }];
  const s = store();
  const now = T0 + 60_000;
  // 60% / 40% observed over the last minute, against 90/10 configured.
  for (let i = 0; i < 200; i++) s.addSpan(span({ at: now - 50_000 + i * 200, version: i % 5 < 3 ? "v1" : "v2" }));
  const f = new AnomalyDetector(s).detect(configured, now);
  assert.deepEqual(f.map((x) => x.kind), ["split_deviation"]);
  assert.ok(Math.abs(f[0]!.value - 0.3) < 0.02, `deviation ${f[0]!.value}`);
  // Within tolerance: 88/12.
  const ok = store();
  for (let i = 0; i < 200; i++) ok.addSpan(span({ at: now - 50_000 + i * 200, version: i % 25 < 22 ? "v1" : "v2" }));
  assert.deepEqual(new AnomalyDetector(ok).detect(configured, now), []);
});
