// OTLP/JSON-shaped export requests -> the collector's flat records (spans, log records, metric points).
// Both wire encodings arrive here in one shape; ids may be hex (OTLP/JSON) or base64 (protobuf bytes).

export type AttrValue = string | number | boolean;
export type Attributes = Record<string, AttrValue>;

export const SPAN_KIND = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
export type SpanKind = (typeof SPAN_KIND)[number];

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  service: string;
  version: string;
  startMs: number;
  durationMs: number;
  /** 0 unset, 1 ok, 2 error (OTel status code). */
  status: number;
  statusMessage?: string;
  httpStatus: number;
  route: string;
  errorCode: string;
  /** For client spans: the service called (peer.service, outrigger.backend or server.address). */
  peer: string;
  /** The subset/version chosen by a split, when the span says. */
  backend: string;
  attributes: Attributes;
  resource: Attributes;
  events: { timeMs: number; name: string; attributes: Attributes }[];
}

export interface LogRecordOut {
  timeMs: number;
  service: string;
  severity: string;
  body: string;
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface MetricPoint {
  name: string;
  service: string;
  timeMs: number;
  kind: "gauge" | "sum" | "histogram" | "exponential_histogram" | "summary";
  value: number;
  count?: number;
  attributes: Attributes;
}

type Obj = Record<string, any>;

const MAX_ATTRS = 64;
const MAX_VALUE_CHARS = 1024;
const MAX_EVENTS = 32;

/** Hex from an OTLP id: hex already (OTLP/JSON) or base64 (protobuf bytes). */
export function idToHex(v: unknown): string {
  if (typeof v !== "string" || v === "") return "";
  if ((v.length === 32 || v.length === 16) && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  return Buffer.from(v, "base64").toString("hex");
}

const nanosToMs = (v: unknown): number => {
  if (v === undefined || v === null || v === "") return 0;
  try {
    const n = BigInt(typeof v === "number" ? Math.trunc(v) : String(v));
    return Number(n / 1000n) / 1000;
  } catch {
    return 0;
  }
};

function anyValue(v: Obj | undefined): AttrValue {
  if (!v || typeof v !== "object") return "";
  if ("stringValue" in v) return String(v.stringValue).slice(0, MAX_VALUE_CHARS);
  if ("boolValue" in v) return Boolean(v.boolValue);
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) return JSON.stringify(((v.arrayValue as Obj)?.values ?? []).map((x: Obj) => anyValue(x))).slice(0, MAX_VALUE_CHARS);
  if ("kvlistValue" in v) return JSON.stringify(attributes((v.kvlistValue as Obj)?.values)).slice(0, MAX_VALUE_CHARS);
  if ("bytesValue" in v) return String(v.bytesValue).slice(0, MAX_VALUE_CHARS);
  return "";
}

export function attributes(list: unknown): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  let n = 0;
  for (const kv of list as Obj[]) {
    if (!kv || typeof kv.key !== "string") continue;
    if (++n > MAX_ATTRS) break;
    out[kv.key] = anyValue(kv.value);
  }
  return out;
}

const spanKind = (k: unknown): SpanKind => {
  if (typeof k === "number") return SPAN_KIND[k] ?? "unspecified";
  if (typeof k === "string") {
    const s = k.replace(/^SPAN_KIND_/, "").toLowerCase();
    return (SPAN_KIND as readonly string[]).includes(s) ? (s as SpanKind) : "unspecified";
  }
  return "unspecified";
};

const statusCode = (c: unknown): number => {
  if (typeof c === "number") return c;
  if (c === "STATUS_CODE_OK") return 1;
  if (c === "STATUS_CODE_ERROR") return 2;
  return 0;
};

const str = (v: AttrValue | undefined): string => (v === undefined ? "" : String(v));

/** The called service from a client span: explicit peer.service, else the service part of outrigger.backend, else the host. */
function peerOf(a: Attributes): string {
  if (a["peer.service"]) return str(a["peer.service"]);
  const backend = str(a["outrigger.backend"]);
  if (backend) return backend.split(/[/:@]/)[0]!;
  const host = str(a["server.address"] ?? a["net.peer.name"] ?? a["http.host"]);
  return host.replace(/:\d+$/, "");
}

function backendOf(a: Attributes): string {
  if (a["outrigger.subset"]) return str(a["outrigger.subset"]);
  const backend = str(a["outrigger.backend"]);
  const m = /[/:@](.+)$/.exec(backend);
  return m ? m[1]! : "";
}

export function spansFrom(req: Obj): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const rs of (req.resourceSpans ?? []) as Obj[]) {
    const resource = attributes(rs?.resource?.attributes);
    const service = str(resource["service.name"]) || "unknown_service";
    const version = str(resource["service.version"]);
    for (const ss of (rs?.scopeSpans ?? []) as Obj[]) {
      for (const s of (ss?.spans ?? []) as Obj[]) {
        const traceId = idToHex(s.traceId);
        const spanId = idToHex(s.spanId);
        if (!traceId || !spanId) continue;
        const a = attributes(s.attributes);
        const startMs = nanosToMs(s.startTimeUnixNano);
        const endMs = nanosToMs(s.endTimeUnixNano);
        const kind = spanKind(s.kind);
        const httpStatus = Number(a["http.response.status_code"] ?? a["http.status_code"] ?? 0) || 0;
        out.push({
          traceId,
          spanId,
          parentSpanId: idToHex(s.parentSpanId),
          name: String(s.name ?? "").slice(0, 256),
          kind,
          service,
          version: str(a["outrigger.version"]) || version,
          startMs,
          durationMs: Math.max(0, endMs - startMs),
          status: statusCode(s.status?.code),
          ...(s.status?.message ? { statusMessage: String(s.status.message).slice(0, MAX_VALUE_CHARS) } : {}),
          httpStatus,
          route: str(a["outrigger.route"] ?? a["http.route"]) || String(s.name ?? ""),
          errorCode: str(a["outrigger.error_code"]),
          peer: kind === "client" ? peerOf(a) : "",
          backend: backendOf(a),
          attributes: a,
          resource,
          events: ((s.events ?? []) as Obj[]).slice(0, MAX_EVENTS).map((e) => ({ timeMs: nanosToMs(e.timeUnixNano), name: String(e.name ?? ""), attributes: attributes(e.attributes) })),
        });
      }
    }
  }
  return out;
}

export function logsFrom(req: Obj): LogRecordOut[] {
  const out: LogRecordOut[] = [];
  for (const rl of (req.resourceLogs ?? []) as Obj[]) {
    const resource = attributes(rl?.resource?.attributes);
    const service = str(resource["service.name"]) || "unknown_service";
    for (const sl of (rl?.scopeLogs ?? []) as Obj[])
      for (const r of (sl?.logRecords ?? []) as Obj[])
        out.push({
          timeMs: nanosToMs(r.timeUnixNano) || nanosToMs(r.observedTimeUnixNano) || Date.now(),
          service,
          severity: String(r.severityText ?? r.severityNumber ?? ""),
          body: str(anyValue(r.body)),
          traceId: idToHex(r.traceId),
          spanId: idToHex(r.spanId),
          attributes: attributes(r.attributes),
        });
  }
  return out;
}

export function metricPointsFrom(req: Obj): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const rm of (req.resourceMetrics ?? []) as Obj[]) {
    const resource = attributes(rm?.resource?.attributes);
    const service = str(resource["service.name"]) || "unknown_service";
    for (const sm of (rm?.scopeMetrics ?? []) as Obj[])
      for (const m of (sm?.metrics ?? []) as Obj[]) {
        const name = String(m?.name ?? "");
        for (const kind of ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const) {
          const data = m?.[kind] as Obj | undefined;
          if (!data) continue;
          for (const dp of (data.dataPoints ?? []) as Obj[]) {
            const hist = kind === "histogram" || kind === "exponentialHistogram" || kind === "summary";
            out.push({
              name,
              service,
              timeMs: nanosToMs(dp.timeUnixNano),
              kind: kind === "exponentialHistogram" ? "exponential_histogram" : kind,
              value: hist ? Number(dp.sum ?? 0) : Number(dp.asDouble ?? dp.asInt ?? 0),
              ...(hist ? { count: Number(dp.count ?? 0) } : {}),
              attributes: attributes(dp.attributes),
            });
          }
        }
      }
  }
  return out;
}
