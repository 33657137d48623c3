// OTLP export when the collector misbehaves: 429 + Retry-After honoured, failures retried then dropped and
// counted, logged once per interval, and with the collector down or blackholed requests stay fast and the
// queue stays bounded (drop-oldest).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { request } from "undici";
import { freePort, freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { planOf, sample, sidecarResource, startInProcess, telemetryResource } from "../support/sidecars.js";
import { retryAfterMs, Ring } from "../../src/telemetry/export.js";
import type { Sidecar } from "../../src/sidecar/server.js";

let app: Echo;
let receiver: OtlpReceiver;
let sc: Sidecar;
let P: number[];
const logs: Record<string, unknown>[] = [];
const logger = pino({ level: "warn" }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
const plan = (exportSpec: Record<string, unknown>) =>
  planOf([sidecarResource({ service: "svc", app: `127.0.0.1:${app.port}`, inbound: P[0], admin: P[1] }), telemetryResource({ tracing: { sampler: { type: "always" } }, export: { endpoint: receiver.url, interval: "50ms", ...exportSpec } })]);

before(async () => {
  app = await startEcho();
  receiver = await startOtlpReceiver();
  P = await freePorts(2);
  sc = await startInProcess(plan({}), logger);
});
after(async () => {
  await sc?.close();
  await app?.close();
  await receiver?.close();
});

const hit = async (path: string) => {
  const t0 = performance.now();
  const r = await request(`http://127.0.0.1:${P[0]}${path}`);
  await r.body.text();
  return performance.now() - t0;
};
const metrics = async () => (await request(`http://127.0.0.1:${P[1]}/metrics`)).body.text();

test("Retry-After parsing; the ring buffer drops its oldest entries", () => {
  assert.equal(retryAfterMs("2"), 2000);
  assert.ok((retryAfterMs(new Date(Date.now() + 3000).toUTCString(), Date.now()) ?? 0) > 1000);
  assert.equal(retryAfterMs("9999"), 60_000, "capped");
  assert.equal(retryAfterMs("soon"), undefined);
  const r = new Ring<number>(3);
  assert.equal([1, 2, 3, 4, 5].reduce((d, v) => d + r.push(v), 0), 2);
  assert.deepEqual(r.take(10), [3, 4, 5]);
  for (const v of [6, 7]) r.push(v);
  r.take(1);
  assert.equal(r.resize(5), 0);
  for (const v of [8, 9, 10, 11]) r.push(v);
  assert.deepEqual(r.take(10), [7, 8, 9, 10, 11], "resizing keeps order and the newest entries");
});

test("429 with Retry-After: the exporter waits as asked, then delivers the same spans", async () => {
  receiver.mode = { kind: "fail", status: 429, retryAfter: "1" };
  const before = receiver.requests.length;
  await hit("/retry-after");
  await receiver.waitForRequests(before + 1);
  const first = receiver.requests[before]!.at;
  receiver.mode = { kind: "ok" };
  const [span] = await receiver.waitForSpans(1, (s) => s.attributes["url.path"] === "/retry-after");
  const retried = receiver.requests.slice(before + 1).find((r) => r.status === 200)!;
  assert.ok(retried.at - first >= 900, `retried after ${retried.at - first} ms`);
  assert.ok(span);
  assert.equal(sample(await metrics(), "outrigger_telemetry_dropped_total", { signal: "spans" }) ?? 0, 0);
});

test("collector down: retried with back-off, then dropped, counted, and logged once per interval", async () => {
  const dead = await freePort();
  sc.swap(planOf([sidecarResource({ service: "svc", app: `127.0.0.1:${app.port}`, inbound: P[0], admin: P[1] }), telemetryResource({ tracing: { sampler: { type: "always" } }, export: { endpoint: `http://127.0.0.1:${dead}`, interval: "20ms", batchSize: 1, maxAttempts: 2 } })]));
  logs.length = 0;
  for (let i = 0; i < 10; i++) await hit(`/down/${i}`);
  const deadline = Date.now() + 20_000;
  let dropped = 0;
  while (Date.now() < deadline && (dropped = sample(await metrics(), "outrigger_telemetry_dropped_total", { signal: "spans", reason: "retries_exhausted" }) ?? 0) < 3) await new Promise((r) => setTimeout(r, 100));
  assert.ok(dropped >= 3, `dropped ${dropped}`);
  const warnings = logs.filter((l) => l.event === "telemetry.export.failed");
  assert.equal(warnings.length, 1, "one log line per interval, not one per batch");
  assert.ok(sample(await metrics(), "outrigger_telemetry_exported_total", { signal: "spans", result: "failed" })! >= 3);
});

test("export-bytes budget: batches over exportBytesPerSecond are shed and counted, not sent", async () => {
  receiver.mode = { kind: "ok" };
  sc.swap(planOf([sidecarResource({ service: "svc", app: `127.0.0.1:${app.port}`, inbound: P[0], admin: P[1] }), telemetryResource({ tracing: { sampler: { type: "always" } }, export: { endpoint: receiver.url, interval: "20ms" }, budget: { exportBytesPerSecond: 10 } })]));
  for (let i = 0; i < 5; i++) await hit(`/bytes-budget/${i}`);
  const deadline = Date.now() + 10_000;
  let shed = 0;
  while (Date.now() < deadline && (shed = sample(await metrics(), "outrigger_telemetry_dropped_total", { signal: "export_bytes", reason: "budget" }) ?? 0) < 5) await new Promise((r) => setTimeout(r, 50));
  assert.ok(shed >= 5, `shed ${shed}: every span of every over-budget batch is counted`);
  assert.ok(!receiver.spans.some((s) => String(s.attributes["url.path"]).startsWith("/bytes-budget/")));
});

test("collector blackholed: request latency stays flat and the queue stays bounded (oldest dropped, counted)", async () => {
  sc.swap(plan({ interval: "20ms" }));
  receiver.mode = { kind: "ok" };
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const healthy: number[] = [];
  for (let i = 0; i < 200; i++) healthy.push(await hit(`/healthy/${i}`));
  receiver.mode = { kind: "blackhole" };
  sc.swap(plan({ interval: "20ms", queueSize: 50, batchSize: 10, timeout: "30s", maxAttempts: 3 }));
  const dropsBefore = sample(await metrics(), "outrigger_telemetry_dropped_total", { signal: "spans", reason: "queue_full" }) ?? 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const blackholed: number[] = [];
  for (let i = 0; i < 600; i++) blackholed.push(await hit(`/blackhole/${i}`));
  const m = await metrics();
  const drops = (sample(m, "outrigger_telemetry_dropped_total", { signal: "spans", reason: "queue_full" }) ?? 0) - dropsBefore;
  // At most the queue (50) plus one batch in flight (10) can be held; everything older was dropped and counted.
  assert.ok(drops >= 600 - 50 - 10 - 1, `queue_full drops ${drops}`);
  const h = median(healthy);
  const b = median(blackholed);
  assert.ok(b < h * 3 + 5, `median latency healthy ${h.toFixed(2)} ms vs blackholed ${b.toFixed(2)} ms`);
  const grown = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  assert.ok(grown < 40, `heap grew ${grown.toFixed(1)} MB`);
  receiver.mode = { kind: "ok" };
});
