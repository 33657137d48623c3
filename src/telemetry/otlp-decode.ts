// OTLP/HTTP protobuf decoding (traces, metrics, logs) for receivers: the collector and the tests' receivers.
// @opentelemetry/otlp-transformer only encodes (its hand-written writer has no request decoder), so the
// messages are declared here from opentelemetry-proto (v1, field numbers unchanged since 1.0) and decoded by protobufjs.
import protobuf from "protobufjs";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";

const gunzipAsync = promisify(gunzip);

const PROTO = `
syntax = "proto3";
package opentelemetry.proto;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  repeated Event events = 11; uint32 dropped_events_count = 12;
  repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
}
message Status { string message = 2; int32 code = 3; }

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric { string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11; }
  repeated KeyValue metadata = 12; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; } repeated Exemplar exemplars = 5; uint32 flags = 8; }
message HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
  repeated Exemplar exemplars = 8; uint32 flags = 10; optional double min = 11; optional double max = 12; }
message ExponentialHistogramDataPoint { repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8; Buckets negative = 9;
  uint32 flags = 10; repeated Exemplar exemplars = 11; optional double min = 12; optional double max = 13; double zero_threshold = 14;
  message Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; } }
message SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;
  message ValueAtQuantile { double quantile = 1; double value = 2; } }
message Exemplar { repeated KeyValue filtered_attributes = 7; fixed64 time_unix_nano = 2;
  oneof value { double as_double = 3; sfixed64 as_int = 6; } bytes span_id = 4; bytes trace_id = 5; }

message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; string event_name = 12; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const T = {
  traces: root.lookupType("opentelemetry.proto.ExportTraceServiceRequest"),
  metrics: root.lookupType("opentelemetry.proto.ExportMetricsServiceRequest"),
  logs: root.lookupType("opentelemetry.proto.ExportLogsServiceRequest"),
};
/** 64-bit integers as decimal strings (nanosecond timestamps overflow doubles); ids as lower-case hex. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, bytes: String, defaults: true, arrays: true, oneofs: true };

export type Attributes = Record<string, unknown>;
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  events: { name: string; timeUnixNano: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Attributes;
  scope: { name: string; version: string };
}

/** A request body as received: gunzipped when Content-Encoding says gzip, with a cap on the inflated size. */
export async function otlpBody(body: Buffer, contentEncoding: string | undefined, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
  if (!contentEncoding || contentEncoding === "identity") return body;
  if (contentEncoding.toLowerCase() !== "gzip") throw new Error(`unsupported Content-Encoding "${contentEncoding}" (gzip or identity)`);
  return gunzipAsync(body, { maxOutputLength: maxBytes });
}

const b64hex = (s: unknown) => (typeof s === "string" && s ? Buffer.from(s, "base64").toString("hex") : "");

export function anyValue(v: Record<string, unknown> | null | undefined): unknown {
  if (!v) return undefined;
  switch (v.value) {
    case "stringValue":
      return v.stringValue;
    case "boolValue":
      return v.boolValue;
    case "intValue":
      return Number(v.intValue);
    case "doubleValue":
      return v.doubleValue;
    case "bytesValue":
      return Buffer.from(String(v.bytesValue), "base64");
    case "arrayValue":
      return ((v.arrayValue as { values?: Record<string, unknown>[] })?.values ?? []).map(anyValue);
    case "kvlistValue":
      return attributes((v.kvlistValue as { values?: KV[] })?.values);
    default:
      return undefined;
  }
}
type KV = { key: string; value?: Record<string, unknown> };
export const attributes = (kvs: KV[] | undefined): Attributes => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));

/** Raw decoded ExportTraceServiceRequest (camelCase fields, longs as strings, bytes as base64). */
export function decodeTraceRequest(buf: Uint8Array): Record<string, unknown> {
  return T.traces.toObject(T.traces.decode(buf), TO_OBJECT);
}
export function decodeMetricsRequest(buf: Uint8Array): Record<string, unknown> {
  return T.metrics.toObject(T.metrics.decode(buf), TO_OBJECT);
}
export function decodeLogsRequest(buf: Uint8Array): Record<string, unknown> {
  return T.logs.toObject(T.logs.decode(buf), TO_OBJECT);
}

/** Every span in an ExportTraceServiceRequest, flattened with its resource and scope, ids in hex. */
export function decodeSpans(buf: Uint8Array): DecodedSpan[] {
  const req = decodeTraceRequest(buf) as { resourceSpans: { resource?: { attributes: KV[] }; scopeSpans: { scope?: { name: string; version: string }; spans: Record<string, unknown>[] }[] }[] };
  const out: DecodedSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const st = (s.status ?? {}) as { code?: number; message?: string };
        out.push({
          traceId: b64hex(s.traceId),
          spanId: b64hex(s.spanId),
          parentSpanId: b64hex(s.parentSpanId),
          traceState: String(s.traceState ?? ""),
          flags: Number(s.flags ?? 0),
          name: String(s.name),
          kind: Number(s.kind),
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: attributes(s.attributes as KV[]),
          events: ((s.events ?? []) as { name: string; timeUnixNano: string; attributes: KV[] }[]).map((e) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: attributes(e.attributes) })),
          links: ((s.links ?? []) as { traceId: string; spanId: string; attributes: KV[] }[]).map((l) => ({ traceId: b64hex(l.traceId), spanId: b64hex(l.spanId), attributes: attributes(l.attributes) })),
          status: { code: Number(st.code ?? 0), message: String(st.message ?? "") },
          resource,
          scope: { name: ss.scope?.name ?? "", version: ss.scope?.version ?? "" },
        });
      }
  }
  return out;
}

export interface DecodedMetric {
  name: string;
  description: string;
  unit: string;
  type: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary";
  monotonic: boolean;
  points: { attributes: Attributes; value?: number; count?: number; sum?: number; bucketCounts?: number[]; bounds?: number[]; timeUnixNano: string }[];
  resource: Attributes;
}

/** Every metric in an ExportMetricsServiceRequest with its data points, attributes flattened. */
export function decodeMetrics(buf: Uint8Array): DecodedMetric[] {
  const req = decodeMetricsRequest(buf) as { resourceMetrics: { resource?: { attributes: KV[] }; scopeMetrics: { metrics: Record<string, unknown>[] }[] }[] };
  const out: DecodedMetric[] = [];
  for (const rm of req.resourceMetrics) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics) {
        const type = m.data as DecodedMetric["type"];
        const data = (m[type] ?? {}) as { dataPoints?: Record<string, unknown>[]; isMonotonic?: boolean };
        out.push({
          name: String(m.name),
          description: String(m.description ?? ""),
          unit: String(m.unit ?? ""),
          type,
          monotonic: Boolean(data.isMonotonic),
          resource,
          points: (data.dataPoints ?? []).map((p) => ({
            attributes: attributes(p.attributes as KV[]),
            timeUnixNano: String(p.timeUnixNano),
            ...(p.value === "asDouble" ? { value: Number(p.asDouble) } : p.value === "asInt" ? { value: Number(p.asInt) } : {}),
            ...(p.count !== undefined ? { count: Number(p.count) } : {}),
            ...(p.sum !== undefined && p.sum !== null ? { sum: Number(p.sum) } : {}),
            ...(Array.isArray(p.bucketCounts) ? { bucketCounts: (p.bucketCounts as string[]).map(Number) } : {}),
            ...(Array.isArray(p.explicitBounds) ? { bounds: p.explicitBounds as number[] } : {}),
          })),
        });
      }
  }
  return out;
}
