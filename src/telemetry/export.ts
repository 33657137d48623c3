// OTLP/HTTP protobuf export to the collector: batched, gzip, bearer token, TLS; bounded queue that drops its
// oldest spans when full; retries with exponential back-off and jitter, honouring 429/503 Retry-After; every
// drop counted in outrigger_telemetry_dropped_total and logged at most once per interval. Nothing here is on
// the request path: enqueue() is an array push, sending happens on a timer.
//
// Why not @opentelemetry/exporter-trace-otlp-proto + BatchSpanProcessor: the batch processor drops the *newest*
// spans when its queue is full and exposes no drop counter, and the exporter has no per-sidecar byte budget;
// we need drop-oldest, counted drops per reason and the budget, so we keep OTel's encoder (otlp-transformer)
// and own the queue and transport (undici).
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { readFile } from "node:fs/promises";
import { Agent, request, type Dispatcher } from "undici";
import type { Logger } from "pino";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ExportPlan } from "../config/compile/telemetry.js";
import type { MetricsRegistry } from "./registry.js";
import type { TelemetryBudget } from "./budget.js";

const gzipAsync = promisify(gzip);
const RETRYABLE = new Set([408, 429, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;
const WARN_INTERVAL_MS = 30_000;

/** Retry-After as delta-seconds or an HTTP date, in ms (capped); undefined when absent or unparsable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = /^\s*(\d+)\s*$/.exec(v);
  const ms = secs ? Number(secs[1]) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** Logs a condition at most once per interval, with how many times it happened since the last line. */
export class LogOnce {
  private last = 0;
  private suppressed = 0;
  constructor(private readonly logger: Logger, private readonly intervalMs = WARN_INTERVAL_MS) {}
  warn(obj: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...obj, suppressedSinceLast: this.suppressed }, msg);
    this.last = now;
    this.suppressed = 0;
  }
}

export type SendResult = "ok" | "rejected" | "retries_exhausted" | "closed";

/** One OTLP/HTTP endpoint: headers, auth, TLS, compression, retries. Shared by the span queue and metric push. */
export class OtlpSender {
  private dispatcher: Dispatcher | undefined;
  private headers: Record<string, string> = {};
  private closed = false;
  private readonly sleeping = new Set<() => void>();

  constructor(private readonly logOnce: LogOnce) {}

  plan: ExportPlan | undefined;

  /** Applies a plan's export settings; token and TLS files are read here (async, off the request path). */
  async configure(plan: ExportPlan): Promise<void> {
    const token = plan.token ?? (plan.tokenFile ? (await readFile(plan.tokenFile, "utf8")).trim() : undefined);
    const headers: Record<string, string> = { ...plan.headers, "content-type": "application/x-protobuf", "user-agent": "outrigger-sidecar" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (plan.gzip) headers["content-encoding"] = "gzip";
    let dispatcher: Dispatcher | undefined;
    if (plan.tls) {
      const [ca, cert, key] = await Promise.all([plan.tls.caFile, plan.tls.certFile, plan.tls.keyFile].map((f) => (f ? readFile(f) : undefined)));
      dispatcher = new Agent({ connect: { ca, cert, key }, connections: 4, headersTimeout: plan.timeoutMs, bodyTimeout: plan.timeoutMs });
    } else dispatcher = new Agent({ connections: 4, headersTimeout: plan.timeoutMs, bodyTimeout: plan.timeoutMs });
    const old = this.dispatcher;
    this.dispatcher = dispatcher;
    this.headers = headers;
    this.plan = plan;
    if (old) void old.close().catch(() => {});
  }

  async encode(body: Uint8Array): Promise<Buffer> {
    return this.plan?.gzip ? gzipAsync(body) : Buffer.from(body);
  }

  /** POSTs one encoded body with retries; resolves with what became of it (never throws). */
  async send(url: string, body: Buffer, signal: string): Promise<SendResult> {
    const plan = this.plan!;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return "closed";
      let wait: number | undefined;
      let why: string;
      try {
        const res = await request(url, { method: "POST", headers: this.headers, body, dispatcher: this.dispatcher, signal: AbortSignal.timeout(plan.timeoutMs) });
        await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
        if (res.statusCode >= 200 && res.statusCode < 300) return "ok";
        why = `HTTP ${res.statusCode}`;
        if (!RETRYABLE.has(res.statusCode)) {
          this.logOnce.warn({ event: "telemetry.export.rejected", signal, url, status: res.statusCode }, "collector rejected telemetry; dropping the batch");
          return "rejected";
        }
        wait = retryAfterMs(res.headers["retry-after"]);
      } catch (err) {
        why = (err as Error).message;
      }
      if (attempt >= plan.maxAttempts) {
        this.logOnce.warn({ event: "telemetry.export.failed", signal, url, attempts: attempt, reason: why }, "telemetry export failed; dropping the batch");
        return "retries_exhausted";
      }
      // Exponential back-off with full jitter (0.5 s base, 30 s cap), or exactly what Retry-After asked for.
      await this.sleep(wait ?? Math.random() * Math.min(30_000, 500 * 2 ** (attempt - 1)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleeping.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.sleeping.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.sleeping]) wake();
    await this.dispatcher?.destroy().catch(() => {});
  }
}

/** Fixed-capacity FIFO that overwrites its oldest entry when full (returns how many it dropped). */
export class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;
  constructor(private cap: number) {
    this.buf = new Array<T | undefined>(cap);
  }
  get size(): number {
    return this.len;
  }
  push(v: T): number {
    if (this.len === this.cap) {
      this.buf[this.head] = v;
      this.head = (this.head + 1) % this.cap;
      return 1;
    }
    this.buf[(this.head + this.len) % this.cap] = v;
    this.len++;
    return 0;
  }
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.len > 0) {
      out.push(this.buf[this.head]!);
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) % this.cap;
      this.len--;
    }
    return out;
  }
  /** New capacity; keeps the newest entries. Returns how many were dropped. */
  resize(cap: number): number {
    if (cap === this.cap) return 0;
    const items = this.take(this.len);
    const dropped = Math.max(0, items.length - cap);
    this.cap = cap;
    this.buf = new Array<T | undefined>(cap);
    this.head = 0;
    this.len = 0;
    for (const it of items.slice(dropped)) this.push(it);
    return dropped;
  }
}

/** The span export pipeline: bounded queue -> batches -> budget -> OtlpSender. */
export class SpanExport {
  private queue: Ring<ReadableSpan>;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private url: string | undefined;
  private batchSize = 512;
  private readonly sender: OtlpSender;
  private configuring: Promise<void> = Promise.resolve();

  constructor(private readonly metrics: MetricsRegistry, private readonly budget: TelemetryBudget, logger: Logger) {
    this.queue = new Ring(4096);
    this.sender = new OtlpSender(new LogOnce(logger));
    this.logOnce = new LogOnce(logger);
  }
  private readonly logOnce: LogOnce;

  get queued(): number {
    return this.queue.size;
  }

  configure(plan: ExportPlan): void {
    this.url = plan.tracesUrl;
    this.batchSize = plan.batchSize;
    const dropped = this.queue.resize(plan.queueSize);
    if (dropped) this.metrics.telemetryDropped.inc({ signal: "spans", reason: "queue_full" }, dropped);
    clearInterval(this.timer);
    this.timer = undefined;
    if (!plan.tracesUrl && !plan.metricsUrl) return;
    this.configuring = this.sender.configure(plan).catch((err) => this.logOnce.warn({ event: "telemetry.export.config", err: (err as Error).message }, "cannot read export token/TLS files"));
    if (!this.url) return;
    this.timer = setInterval(() => void this.flush(), plan.intervalMs);
    this.timer.unref();
  }

  get enabled(): boolean {
    return this.url !== undefined;
  }

  enqueue(span: ReadableSpan): void {
    if (!this.url) return;
    if (this.queue.push(span)) {
      this.metrics.telemetryDropped.inc({ signal: "spans", reason: "queue_full" });
      this.logOnce.warn({ event: "telemetry.export.queue_full", queued: this.queue.size }, "span export queue full; dropping the oldest spans");
    }
    if (this.queue.size >= this.batchSize && !this.busy) setImmediate(() => void this.flush());
  }

  /** Sends everything queued, one batch at a time (one request in flight). */
  async flush(): Promise<void> {
    if (this.busy || !this.url) return;
    this.busy = true;
    try {
      await this.configuring;
      while (this.queue.size > 0 && this.url) {
        const batch = this.queue.take(this.batchSize);
        const body = await this.sender.encode(ProtobufTraceSerializer.serializeRequest(batch)!);
        if (!this.budget.exportBytes.take(body.length)) {
          this.metrics.telemetryDropped.inc({ signal: "export_bytes", reason: "budget" }, batch.length);
          continue;
        }
        const result = await this.sender.send(this.url, body, "spans");
        if (result === "ok") {
          this.metrics.exported.inc({ signal: "spans", result: "ok" }, batch.length);
          this.metrics.exportBytes.inc({ signal: "spans" }, body.length);
        } else {
          this.metrics.exported.inc({ signal: "spans", result: "failed" }, batch.length);
          this.metrics.telemetryDropped.inc({ signal: "spans", reason: result === "closed" ? "retries_exhausted" : result }, batch.length);
          if (result === "closed") return;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // One last bounded attempt so a clean shutdown does not lose the tail of its spans.
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.sender.close();
  }

  /** For the metric push, which shares auth/TLS/retry settings. */
  get transport(): OtlpSender {
    return this.sender;
  }
}
