// The collector as a real process: OTLP ingest (protobuf from the OpenTelemetry SDK, JSON, gzip), queries,
// auth on every endpoint, per-sender 429s, bad input, on-disk segments surviving a restart, and forwarding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { context, trace, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { api, eventually, startCollector, type TestCollector } from "../support/collector.js";

/** checkout (server -> client to payments) and payments (server), sent by the OpenTelemetry SDK as gzip protobuf. */
async function sendSdkTrace(c: TestCollector, opts: { paymentsStatus?: number } = {}): Promise<string> {
  const provider = (service: string, version: string, token: string) =>
    new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": service, "service.version": version }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${c.url}/v1/traces`, headers: { authorization: `Bearer ${token}` }, compression: "gzip" as never }))],
    });
  const checkout = provider("checkout", "v1", c.tokens.sender);
  const payments = provider("payments", "v2", c.tokens.sender2);
  const t0 = Date.now() - 50;
  const server = checkout.getTracer("test").startSpan("GET /checkout", { kind: SpanKind.SERVER, startTime: t0, attributes: { "http.request.method": "GET", "http.response.status_code": 200, "outrigger.route": "checkout-api" } });
  const ctx1 = trace.setSpan(context.active(), server);
  const client = checkout.getTracer("test").startSpan("GET", { kind: SpanKind.CLIENT, startTime: t0 + 5, attributes: { "http.request.method": "GET", "server.address": "payments", "outrigger.backend": "payments/v2", "http.response.status_code": opts.paymentsStatus ?? 200 } }, ctx1);
  const ctx2 = trace.setSpan(context.active(), client);
  const pay = payments.getTracer("test").startSpan("POST /pay", { kind: SpanKind.SERVER, startTime: t0 + 10, attributes: { "http.response.status_code": opts.paymentsStatus ?? 200, "outrigger.route": "pay" } }, ctx2);
  if ((opts.paymentsStatus ?? 200) >= 500) pay.setStatus({ code: SpanStatusCode.ERROR });
  pay.end(t0 + 30);
  client.end(t0 + 35);
  server.end(t0 + 40);
  await Promise.all([checkout.forceFlush(), payments.forceFlush()]);
  await Promise.all([checkout.shutdown(), payments.shutdown()]);
  return server.spanContext().traceId;
}

const jsonSpan = (traceId: string, spanId: string, service: string, extra: Record<string, unknown> = {}) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
      scopeSpans: [{ spans: [{ traceId, spanId, name: "GET /json", kind: 2, startTimeUnixNano: String(BigInt(Date.now() - 20) * 1_000_000n), endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n), attributes: [{ key: "http.response.status_code", value: { intValue: "200" } }], ...extra }] }],
    },
  ],
});

const post = (c: TestCollector, signal: string, body: string | Buffer, headers: Record<string, string>) => fetch(`${c.url}/v1/${signal}`, { method: "POST", body, headers });

test("OTLP protobuf (gzip) from the OpenTelemetry SDK: traces, services, edges, routes and a whole trace", async () => {
  const c = await startCollector();
  try {
    const traceId = await sendSdkTrace(c);
    const t = await eventually(async () => {
      const r = await api(c, `/api/traces/${traceId}`, c.tokens.viewer);
      return r.status === 200 && r.body.items.length === 3 ? r.body : undefined;
    }, 10_000, "whole trace");
    const byName = Object.fromEntries(t.items.map((s: any) => [s.name, s]));
    assert.equal(byName["GET"].parentSpanId, byName["GET /checkout"].spanId);
    assert.equal(byName["POST /pay"].parentSpanId, byName["GET"].spanId);
    assert.equal(byName["POST /pay"].service, "payments");
    assert.equal(byName["POST /pay"].version, "v2");
    assert.deepEqual(t.services, ["checkout", "payments"]);
    assert.ok(Math.abs(t.durationMs - 40) < 1, `trace duration ${t.durationMs}`);

    const search = await api(c, "/api/traces?service=payments&route=pay", c.tokens.viewer);
    assert.equal(search.status, 200);
    assert.deepEqual(search.body.items.map((s: any) => s.traceId), [traceId]);
    assert.equal((await api(c, `/api/traces?traceId=${traceId.toUpperCase()}`, c.tokens.viewer)).body.items.length, 1);
    assert.equal((await api(c, "/api/traces?minDuration=1000", c.tokens.viewer)).body.items.length, 0);
    assert.equal((await api(c, "/api/traces?status=error", c.tokens.viewer)).body.items.length, 0);

    const services = (await api(c, "/api/services?window=60", c.tokens.viewer)).body.items;
    const pay = services.find((s: any) => s.service === "payments");
    assert.equal(pay.requests, 1);
    assert.deepEqual(pay.versions, ["v2"]);
    assert.ok(pay.p50 > 15 && pay.p50 < 25, `payments p50 ${pay.p50} ≈ 20 ms`);
    const edges = (await api(c, "/api/edges?window=60", c.tokens.viewer)).body.items;
    assert.deepEqual(edges.map((e: any) => `${e.source}->${e.target}:${e.requests}`), ["(external)->checkout:1", "checkout->payments:1"]);
    const routes = (await api(c, "/api/routes?service=payments", c.tokens.viewer)).body.items;
    assert.deepEqual(routes.map((r: any) => [r.route, r.direction, r.requests]), [["pay", "inbound", 1]]);

    // Errors are counted and searchable.
    const bad = await sendSdkTrace(c, { paymentsStatus: 503 });
    await eventually(async () => (await api(c, "/api/traces?status=5xx", c.tokens.viewer)).body.items.some((s: any) => s.traceId === bad), 10_000, "5xx trace");
    const pay2 = (await api(c, "/api/services", c.tokens.viewer)).body.items.find((s: any) => s.service === "payments");
    assert.equal(pay2.requests, 2);
    assert.equal(pay2.errors, 1);
    assert.equal(pay2.status5xx, 1);
    const ts = (await api(c, "/api/timeseries?service=payments&window=30", c.tokens.viewer)).body;
    assert.equal(ts.t.length, 30);
    assert.equal(ts.rps.reduce((a: number, b: number) => a + b, 0) > 0, true);

    const metrics = await api(c, "/metrics", c.tokens.viewer);
    assert.match(metrics.body, /outrigger_collector_received_items_total\{signal="traces",sender="checkout-sidecar",encoding="protobuf"\} 4/);
    assert.match(metrics.body, /outrigger_collector_received_items_total\{signal="traces",sender="payments-sidecar",encoding="protobuf"\} 2/);
  } finally {
    await c.stop();
  }
});

test("OTLP/JSON traces, logs and metrics; bad input gets a clear status", async () => {
  const c = await startCollector(["--max-traces", "3"]);
  const auth = { authorization: `Bearer ${c.tokens.sender}` };
  try {
    const id = "5b8efff798038103d269b633813fc60c";
    let r = await post(c, "traces", JSON.stringify(jsonSpan(id, "eee19b7ec3c1b174", "inventory")), { ...auth, "content-type": "application/json" });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {});
    r = await post(c, "traces", gzipSync(JSON.stringify(jsonSpan("5b8efff798038103d269b633813fc60d", "eee19b7ec3c1b175", "inventory"))), { ...auth, "content-type": "application/json", "content-encoding": "gzip" });
    assert.equal(r.status, 200);
    const logs = { resourceLogs: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "inventory" } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), severityText: "INFO", body: { stringValue: "reserved 3 items" }, traceId: id, spanId: "eee19b7ec3c1b174" }] }] }] };
    assert.equal((await post(c, "logs", JSON.stringify(logs), { ...auth, "content-type": "application/json" })).status, 200);
    const metrics = { resourceMetrics: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "inventory" } }] }, scopeMetrics: [{ metrics: [{ name: "stock_level", gauge: { dataPoints: [{ asInt: "42", timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] } }] }] }] };
    assert.equal((await post(c, "metrics", JSON.stringify(metrics), { ...auth, "content-type": "application/json" })).status, 200);
    const t = await api(c, `/api/traces/${id}`, c.tokens.viewer);
    assert.equal(t.status, 200);
    assert.equal(t.body.items[0].service, "inventory");
    const l = await api(c, `/api/logs?traceId=${id}`, c.tokens.viewer);
    assert.deepEqual(l.body.items.map((x: any) => x.body), ["reserved 3 items"]);
    const stats = (await api(c, "/api/stats", c.tokens.viewer)).body;
    assert.deepEqual(stats.received, { spans: 2, logs: 1, metrics: 1 });

    // Bounded: with --max-traces 3, the oldest traces are evicted and counted.
    for (let i = 0; i < 4; i++) await post(c, "traces", JSON.stringify(jsonSpan(`00000000000000000000000000000a0${i}`, "eee19b7ec3c1b176", "inventory")), { ...auth, "content-type": "application/json" });
    const s2 = (await api(c, "/api/stats", c.tokens.viewer)).body;
    assert.equal(s2.traces, 3);
    assert.equal(s2.evictedTraces, 3);
    assert.equal((await api(c, `/api/traces/${id}`, c.tokens.viewer)).status, 404);
    assert.match((await api(c, "/metrics", c.tokens.viewer)).body, /outrigger_collector_dropped\{reason="trace_evicted"\} 3/);

    r = await post(c, "traces", Buffer.from([0x0a, 0xff, 0xff]), { ...auth, "content-type": "application/x-protobuf" });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("x-outrigger-error"), "BAD_REQUEST");
    r = await post(c, "traces", "{not json", { ...auth, "content-type": "application/json" });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as any).error.message, /Invalid OTLP\/JSON traces body/);
    r = await post(c, "traces", "x", { ...auth, "content-type": "text/plain" });
    assert.equal(r.status, 415);
    r = await post(c, "traces", "x", { ...auth, "content-type": "application/json", "content-encoding": "br" });
    assert.equal(r.status, 415);
    r = await post(c, "traces", "x", { ...auth, "content-type": "application/json", "content-encoding": "gzip" });
    assert.equal(r.status, 400);
    r = await post(c, "traces", Buffer.alloc(9 * 1024 * 1024, 32), { ...auth, "content-type": "application/json" });
    assert.equal(r.status, 413);
    assert.equal((await fetch(`${c.url}/v1/traces`, { headers: auth })).status, 405);
    assert.equal((await api(c, "/api/timeseries", c.tokens.viewer)).status, 400);
    assert.equal((await api(c, "/api/services?window=-5", c.tokens.viewer)).status, 400);
    assert.equal((await api(c, "/api/nope", c.tokens.viewer)).status, 404);
    // The collector is still up and serving after all of that.
    assert.equal((await api(c, "/api/stats", c.tokens.viewer)).status, 200);
  } finally {
    await c.stop();
  }
});

test("auth on every endpoint: 401 without or with an unknown token, 403 for the wrong role; reads are audited", async () => {
  const c = await startCollector();
  try {
    const reads = ["/api/overview", "/api/services", "/api/edges", "/api/routes", "/api/timeseries?service=x", "/api/traces", "/api/traces/abc", "/api/timeline", "/api/splits", "/api/anomalies", "/api/senders", "/api/logs", "/api/stats", "/metrics"];
    for (const p of reads) {
      assert.equal((await api(c, p)).status, 401, `${p} without a token`);
      assert.equal((await api(c, p, "not-a-known-token-123456")).status, 401, `${p} with an unknown token`);
      const wrong = await api(c, p, c.tokens.sender);
      assert.equal(wrong.status, 403, `${p} with a sender token`);
      assert.equal(wrong.headers.get("x-outrigger-error"), "FORBIDDEN");
      assert.notEqual((await api(c, p, c.tokens.viewer)).status, 401);
      assert.notEqual((await api(c, p, c.tokens.operator)).status, 403);
    }
    for (const signal of ["traces", "metrics", "logs"]) {
      const body = JSON.stringify({});
      const h = { "content-type": "application/json" };
      const none = await post(c, signal, body, h);
      assert.equal(none.status, 401);
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await post(c, signal, body, { ...h, authorization: "Basic abc" })).status, 401);
      assert.equal((await post(c, signal, body, { ...h, authorization: `Bearer ${c.tokens.viewer}` })).status, 403);
      assert.equal((await post(c, signal, body, { ...h, authorization: `Bearer ${c.tokens.sender}` })).status, 200);
      assert.equal((await post(c, signal, body, { ...h, authorization: `Bearer ${c.tokens.operator}` })).status, 200);
    }
    // Health and the dashboard's static files carry no data and are open.
    assert.equal((await api(c, "/healthz")).status, 200);
    const audit = await eventually(async () => {
      const text = await readFile(path.join(c.dir, "data", "audit.jsonl"), "utf8");
      const lines = text.trim().split("\n").map((l) => JSON.parse(l));
      return lines.length >= reads.length * 5 ? lines : undefined;
    }, 5000, "audit lines");
    assert.ok(audit.some((a: any) => a.principal === "alice" && a.role === "viewer" && a.path === "/api/services" && a.status === 200));
    assert.ok(audit.some((a: any) => a.principal === "checkout-sidecar" && a.path === "/metrics" && a.status === 403));
    assert.ok(audit.some((a: any) => a.principal === "(anonymous)" && a.path === "/api/traces" && a.status === 401));
  } finally {
    await c.stop();
  }
});

test("per-sender ingest limit: 429 with Retry-After for the noisy sender only", async () => {
  const c = await startCollector(["--ingest-rate", "5", "--ingest-burst", "5"]);
  try {
    const batch = (n: number, seed: number) => ({
      resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "noisy" } }] }, scopeSpans: [{ spans: Array.from({ length: n }, (_, i) => jsonSpan(`${String(seed).padStart(16, "0")}${String(i).padStart(16, "0")}`, `${String(i + 1).padStart(16, "0")}`, "noisy").resourceSpans[0]!.scopeSpans[0]!.spans[0]) }] }],
    });
    const send = (token: string, seed: number) => post(c, "traces", JSON.stringify(batch(20, seed)), { authorization: `Bearer ${token}`, "content-type": "application/json" });
    assert.equal((await send(c.tokens.sender, 1)).status, 200); // admitted into debt
    const r = await send(c.tokens.sender, 2);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("x-outrigger-error"), "INGEST_LIMITED");
    const ra = Number(r.headers.get("retry-after"));
    assert.ok(ra >= 1 && ra <= 5, `Retry-After ${ra}`);
    // Another sender is unaffected.
    assert.equal((await send(c.tokens.sender2, 3)).status, 200);
    assert.match((await api(c, "/metrics", c.tokens.viewer)).body, /outrigger_collector_rejected_requests_total\{signal="traces",reason="INGEST_LIMITED"\} 1/);
  } finally {
    await c.stop();
  }
});

test("on-disk segments survive a restart; forwarding re-sends everything to another OTLP endpoint", async () => {
  const downstream = await startCollector();
  const c = await startCollector(["--forward", downstream.url, "--forward-header", `authorization=Bearer ${downstream.tokens.sender}`]);
  try {
    const traceId = await sendSdkTrace(c);
    await eventually(async () => (await api(downstream, `/api/traces/${traceId}`, downstream.tokens.viewer)).body?.items?.length === 3, 10_000, "forwarded trace");
    const port = c.port;
    await c.stop({ keepData: true });
    const again = await startCollector([], { dir: c.dir, port });
    try {
      const t = await api(again, `/api/traces/${traceId}`, again.tokens.viewer);
      assert.equal(t.status, 200);
      assert.equal(t.body.items.length, 3);
    } finally {
      await again.stop();
    }
  } finally {
    await c.stop();
    await downstream.stop();
  }
});
