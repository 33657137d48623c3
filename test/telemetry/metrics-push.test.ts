// OTLP metrics push: the registry's counters, gauges and histograms arrive at a real receiver as OTLP protobuf.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { planOf, sidecarResource, startInProcess, telemetryResource } from "../support/sidecars.js";
import { DURATION_BUCKETS } from "../../src/telemetry/registry.js";
import type { Sidecar } from "../../src/sidecar/server.js";

let app: Echo;
let receiver: OtlpReceiver;
let sc: Sidecar;
let P: number[];

before(async () => {
  app = await startEcho();
  receiver = await startOtlpReceiver();
  P = await freePorts(2);
  sc = await startInProcess(planOf([sidecarResource({ service: "pusher", version: "v9", app: `127.0.0.1:${app.port}`, inbound: P[0], admin: P[1] }), telemetryResource({ metrics: { otlp: { interval: "100ms" } }, tracing: { enabled: false }, export: { endpoint: receiver.url, token: "m-token" } })]));
});
after(async () => {
  await sc?.close();
  await app?.close();
  await receiver?.close();
});

test("counters as monotonic sums, histograms with per-bucket counts, gauges; resource and auth as for spans", async () => {
  for (let i = 0; i < 7; i++) await (await request(`http://127.0.0.1:${P[0]}/m/${i}`)).body.text();
  const deadline = Date.now() + 10_000;
  let found: (typeof receiver.metrics)[number] | undefined;
  while (Date.now() < deadline && !found) {
    found = receiver.metrics.find((batch) => batch.some((m) => m.name === "outrigger_requests_total" && m.points.some((p) => p.value === 7)));
    if (!found) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(found, `no push with 7 requests (got ${receiver.metrics.length} pushes)`);
  const req = found.find((m) => m.name === "outrigger_requests_total")!;
  assert.equal(req.type, "sum");
  assert.equal(req.monotonic, true);
  const point = req.points.find((p) => p.value === 7)!;
  assert.deepEqual([point.attributes.direction, point.attributes.route, point.attributes.code, point.attributes.service], ["inbound", "inbound/default", "200", "pusher"]);
  assert.equal(req.resource["service.name"], "pusher");
  assert.equal(req.resource["service.version"], "v9");
  const dur = found.find((m) => m.name === "outrigger_request_duration_seconds")!;
  assert.equal(dur.type, "histogram");
  assert.equal(dur.unit, "s");
  const hp = dur.points.find((p) => p.count === 7)!;
  assert.deepEqual(hp.bounds, DURATION_BUCKETS);
  assert.equal(hp.bucketCounts!.length, DURATION_BUCKETS.length + 1);
  assert.equal(hp.bucketCounts!.reduce((a, b) => a + b, 0), 7, "per-bucket counts, not cumulative");
  assert.ok(found.some((m) => m.name === "process_resident_memory_bytes" && m.type === "gauge" && m.unit === "By"));
  const r = receiver.requests.find((x) => x.path === "/v1/metrics")!;
  assert.equal(r.headers.authorization, "Bearer m-token");
  assert.equal(r.headers["content-encoding"], "gzip");
});
