// outrigger/envelope: a tiny typed client for the sidecar's app envelope (POST /v1/envelope on loopback).
// No dependencies beyond Node's fetch; every call is fire-and-report (it resolves with the sidecar's answer and
// never throws for telemetry kinds unless `strict` is set), so instrumenting an app cannot break it.
import type { Envelope } from "../telemetry/envelope-schema.js";

export type { Envelope };
export type AttributeValue = string | number | boolean | (string | number | boolean)[];
export type Attributes = Record<string, AttributeValue>;

/** Where the envelope belongs: the request being handled. Use fromHeaders(req.headers) to fill it. */
export interface Correlation {
  traceId?: string;
  spanId?: string;
  requestId?: string;
}

export interface EnvelopeClientOptions {
  /** Default: $OUTRIGGER_ENVELOPE_URL, else http://127.0.0.1:15002 */
  url?: string;
  timeoutMs?: number;
  /** Throw on HTTP errors and rejected envelopes instead of resolving with { ok: false }. */
  strict?: boolean;
}

export interface SendResult {
  ok: boolean;
  status: number;
  accepted?: number;
  results?: unknown[];
  error?: { code: string; message: string; index?: number };
}

/** Reads traceparent and x-request-id from an incoming request's headers (any casing, node or fetch style). */
export function fromHeaders(headers: Record<string, string | string[] | undefined> | { get(name: string): string | null }): Correlation {
  const get = (n: string): string | undefined => {
    if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(name: string): string | null }).get(n) ?? undefined;
    const v = (headers as Record<string, string | string[] | undefined>)[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const out: Correlation = {};
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}/.exec(get("traceparent") ?? "");
  if (m) {
    out.traceId = m[1];
    out.spanId = m[2];
  }
  const rid = get("x-request-id");
  if (rid) out.requestId = rid;
  return out;
}

export class EnvelopeClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly strict: boolean;

  constructor(opts: EnvelopeClientOptions = {}) {
    const base = opts.url ?? process.env.OUTRIGGER_ENVELOPE_URL ?? "http://127.0.0.1:15002";
    this.url = base.endsWith("/v1/envelope") ? base : `${base.replace(/\/+$/, "")}/v1/envelope`;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.strict = opts.strict ?? false;
  }

  /** A span event on the request's span (or a point-in-time span in its trace). */
  event(name: string, at: Correlation = {}, attributes?: Attributes): Promise<SendResult> {
    return this.send({ v: 1, kind: "event", name, ...at, ...(attributes ? { attributes } : {}) });
  }

  /** An app metric: counter (default), gauge or histogram. */
  metric(name: string, value: number, opts: { type?: "counter" | "gauge" | "histogram" } & Correlation = {}): Promise<SendResult> {
    const { type, ...at } = opts;
    return this.send({ v: 1, kind: "metric", name, value, ...(type ? { metricType: type } : {}), ...at });
  }

  /** A child span of the request's span: started at `start` (epoch ms), lasting durationMs. */
  span(name: string, opts: { start: number; durationMs: number; status?: "ok" | "error"; attributes?: Attributes } & Correlation): Promise<SendResult> {
    const { start, ...rest } = opts;
    return this.send({ v: 1, kind: "span", name, ts: start, ...rest });
  }

  /** A log line tied to the request's trace. */
  log(message: string, opts: { severity?: "debug" | "info" | "warn" | "error"; attributes?: Attributes } & Correlation = {}): Promise<SendResult> {
    return this.send({ v: 1, kind: "log", name: message, ...opts });
  }

  /** A control query (e.g. route explain), answered in results[0] when the sidecar serves that kind. */
  control(name: string, query: Record<string, unknown>): Promise<SendResult> {
    return this.send({ v: 1, kind: "control", name, query });
  }

  /** Sends one envelope or a batch (≤ 100). */
  async send(envelopes: Envelope | Envelope[]): Promise<SendResult> {
    let res: Response;
    try {
      res = await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(envelopes), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      if (this.strict) throw err;
      return { ok: false, status: 0, error: { code: "UNREACHABLE", message: (err as Error).message } };
    }
    const body = (await res.json().catch(() => ({}))) as Omit<SendResult, "ok" | "status">;
    const out: SendResult = { ok: res.ok, status: res.status, ...body };
    if (!res.ok && this.strict) throw new Error(`envelope rejected (${res.status}): ${body.error?.message ?? "unknown error"}`);
    return out;
  }
}
