// The OTLP decoder against the official encoder: spans serialized by @opentelemetry/otlp-transformer decode back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { decodeSpans, otlpBody } from "../../src/telemetry/otlp-decode.js";

test("spans encoded by otlp-transformer decode with ids, parent links, kinds, attributes, status and resource", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ "service.name": "checkout", "service.version": "1.2.3" }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer("outrigger", "0.1.0");
  const parent = tracer.startSpan("GET", { kind: SpanKind.SERVER, attributes: { "http.request.method": "GET", "http.response.status_code": 503, big: 2 ** 40, ok: true, ratio: 0.5, list: ["a", "b"] } }, ROOT_CONTEXT);
  const child = tracer.startSpan("GET payments", { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent));
  child.addEvent("retry", { attempt: 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: "UPSTREAM_TIMEOUT" });
  child.end();
  parent.end();
  const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
  const spans = decodeSpans(await otlpBody(gzipSync(body), "gzip"));
  assert.equal(spans.length, 2);
  const s = spans.find((x) => x.kind === 2)!;
  const c = spans.find((x) => x.kind === 3)!;
  assert.equal(s.traceId, parent.spanContext().traceId);
  assert.equal(s.spanId, parent.spanContext().spanId);
  assert.equal(s.parentSpanId, "");
  assert.equal(c.parentSpanId, s.spanId);
  assert.equal(c.traceId, s.traceId);
  assert.deepEqual(s.attributes, { "http.request.method": "GET", "http.response.status_code": 503, big: 2 ** 40, ok: true, ratio: 0.5, list: ["a", "b"] });
  assert.equal(s.resource["service.name"], "checkout");
  assert.equal(s.scope.name, "outrigger");
  assert.deepEqual(c.status, { code: 2, message: "UPSTREAM_TIMEOUT" });
  assert.equal(c.events[0]!.name, "retry");
  assert.equal(c.events[0]!.attributes.attempt, 2);
  assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
  await assert.rejects(otlpBody(Buffer.from("x"), "br"), /unsupported Content-Encoding/);
});
