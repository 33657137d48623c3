// The collector's HTTP server: OTLP/HTTP ingest (/v1/traces, /v1/metrics, /v1/logs), the query API (/api/*),
// its own /metrics, health, and the dashboard's static files. Every request but health and static assets is
// authenticated by the pluggable authenticator list and authorized by role; every read is audited.
// TLS: pass `serve` to build an https server (or any server with the same request event) around `handler`.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { MeshError } from "../errors.js";
import { AnomalyDetector } from "./anomalies.js";
import { AuditLog } from "./audit.js";
import { authenticate, authorize, type Authenticator, type Permission, type Principal } from "./auth.js";
import { noConfigSource, type ConfigSource } from "./config-source.js";
import type { Forwarder } from "./forward.js";
import { SenderLimits } from "./limits.js";
import { createCollectorMetrics, type CollectorMetrics } from "./metrics.js";
import { decodeExport, encodeResponse, encodingOf, type Signal } from "./otlp/decode.js";
import { logsFrom, metricPointsFrom, spansFrom } from "./otlp/normalize.js";
import { edges, routes, services, splits, timeseries, windowOf } from "./query.js";
import type { Segments } from "./storage/segments.js";
import type { Store } from "./store.js";

export const WEB_ROOT = fileURLToPath(new URL("../../../web/", import.meta.url));

export interface CollectorOptions {
  host: string;
  port: number;
  store: Store;
  logger: Logger;
  /** Tried in order; the first that recognises the caller wins. Others (workload certificates) prepend here. */
  authenticators: Authenticator[];
  limits: SenderLimits;
  audit: AuditLog;
  anomalies?: AnomalyDetector;
  configSource?: ConfigSource;
  forwarder?: Forwarder;
  segments?: Segments;
  /** Largest accepted request body, compressed and inflated. */
  maxBodyBytes?: number;
  webRoot?: string;
  /** Builds the listening server around the handler (default: plain HTTP). */
  serve?: (handler: http.RequestListener) => http.Server;
  anomalyIntervalMs?: number;
}

type Ctx = { req: http.IncomingMessage; res: http.ServerResponse; url: URL; principal?: Principal };

const SIGNALS: Record<string, Signal> = { "/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs" };
const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json" };

export class Collector {
  readonly server: http.Server;
  readonly metrics: CollectorMetrics;
  readonly anomalies: AnomalyDetector;
  readonly configSource: ConfigSource;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBody: number;
  private readonly webRoot: string;

  constructor(readonly opts: CollectorOptions) {
    this.anomalies = opts.anomalies ?? new AnomalyDetector(opts.store, undefined, opts.logger);
    this.configSource = opts.configSource ?? noConfigSource;
    this.maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
    this.webRoot = opts.webRoot ?? WEB_ROOT;
    this.metrics = createCollectorMetrics({ store: opts.store, anomalies: this.anomalies, audit: opts.audit, ...(opts.forwarder ? { forwarder: opts.forwarder } : {}), ...(opts.segments ? { segments: opts.segments } : {}) });
    const handler: http.RequestListener = (req, res) => void this.handle(req, res);
    this.server = opts.serve ? opts.serve(handler) : http.createServer(handler);
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 30_000;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async start(): Promise<void> {
    await this.opts.audit.open();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.timer = setInterval(() => void this.tick(), this.opts.anomalyIntervalMs ?? this.opts.store.opts.bucketMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.opts.store.prune();
    try {
      const view = await this.configSource.view();
      this.anomalies.evaluate(view.splits);
    } catch (err) {
      this.opts.logger.warn({ event: "anomaly.error", err: (err as Error).message }, "anomaly detection failed");
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.server.closeIdleConnections?.();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      setTimeout(() => {
        this.server.closeAllConnections?.();
      }, 2000).unref();
    });
    await this.opts.forwarder?.close();
    await this.opts.segments?.drain();
    await this.opts.audit.drain();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://collector");
    const ctx: Ctx = { req, res, url };
    const group = url.pathname.startsWith("/api/") ? "/api" : url.pathname in SIGNALS ? url.pathname : url.pathname === "/metrics" ? "/metrics" : "other";
    res.on("finish", () => this.metrics.requests.inc({ path: group, code: String(res.statusCode) }));
    try {
      if (url.pathname === "/healthz" || url.pathname === "/readyz") return this.json(res, 200, { status: "ok" });
      const signal = SIGNALS[url.pathname];
      if (signal) return await this.ingest(ctx, signal);
      if (url.pathname.startsWith("/api/") || url.pathname === "/metrics") return await this.read(ctx);
      return await this.staticFile(ctx);
    } catch (err) {
      this.fail(ctx, err);
    }
  }

  private fail(ctx: Ctx, err: unknown): void {
    const e = err instanceof MeshError ? err : new MeshError("INTERNAL", undefined, { cause: err });
    if (e.code === "INTERNAL") this.opts.logger.error({ event: "collector.error", err: (err as Error)?.stack ?? String(err), path: ctx.url.pathname }, "request failed");
    if (ctx.res.headersSent) return void ctx.res.destroy();
    const headers: Record<string, string> = { "x-outrigger-error": e.code, ...(e.headers ?? {}) };
    if (e.status === 401) headers["www-authenticate"] = 'Bearer realm="outrigger-collector"';
    const body = JSON.stringify(e.toJSON());
    ctx.res.writeHead(e.status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    ctx.res.end(body);
  }

  private json(res: http.ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(body);
  }

  private async principal(ctx: Ctx, needed: Permission): Promise<Principal> {
    const p = await authenticate(this.opts.authenticators, ctx.req);
    ctx.principal = p;
    authorize(p, needed);
    return p;
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.maxBody) return Promise.reject(new MeshError("PAYLOAD_TOO_LARGE", `The body is ${declared} bytes; the limit is ${this.maxBody}.`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      req.on("data", (c: Buffer) => {
        n += c.length;
        if (n > this.maxBody) {
          req.pause();
          reject(new MeshError("PAYLOAD_TOO_LARGE", `The body exceeds the limit of ${this.maxBody} bytes.`));
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  private async ingest(ctx: Ctx, signal: Signal): Promise<void> {
    const { req, res } = ctx;
    try {
      if (req.method !== "POST") throw new MeshError("METHOD_NOT_ALLOWED", `Use POST ${ctx.url.pathname}.`, { headers: { allow: "POST" } });
      const p = await this.principal(ctx, "ingest");
      const enc = encodingOf(req.headers["content-type"]);
      // An empty bucket refuses before reading or decoding anything: a flooding sender costs little.
      const early = this.opts.limits.take(p.name, 0);
      if (early) throw new MeshError("INGEST_LIMITED", `Sender "${p.name}" is over ${this.opts.limits.opts.itemsPerSecond} items/s.`, { headers: { "retry-after": String(early) } });
      const body = await this.readBody(req);
      const doc = await decodeExport(signal, body, enc, req.headers["content-encoding"] as string | undefined, this.maxBody * 8);
      const items = signal === "traces" ? spansFrom(doc) : signal === "logs" ? logsFrom(doc) : metricPointsFrom(doc);
      const wait = this.opts.limits.take(p.name, items.length);
      if (wait) throw new MeshError("INGEST_LIMITED", `Sender "${p.name}" is over ${this.opts.limits.opts.itemsPerSecond} items/s.`, { headers: { "retry-after": String(wait) } });
      const { store, segments } = this.opts;
      if (signal === "traces") for (const s of items as ReturnType<typeof spansFrom>) { store.addSpan(s); segments?.append({ t: "span", r: s }); }
      else if (signal === "logs") for (const l of items as ReturnType<typeof logsFrom>) { store.addLog(l); segments?.append({ t: "log", r: l }); }
      else for (const m of items as ReturnType<typeof metricPointsFrom>) { store.addMetric(m); segments?.append({ t: "metric", r: m }); }
      store.volume.add(p.name, items.length);
      this.metrics.received.inc({ signal, sender: p.name, encoding: enc }, items.length);
      this.opts.forwarder?.enqueue({ signal, body, contentType: req.headers["content-type"]!, contentEncoding: req.headers["content-encoding"] as string | undefined });
      const out = encodeResponse(enc);
      res.writeHead(200, { "content-type": out.contentType, "content-length": out.body.length });
      res.end(out.body);
    } catch (err) {
      const code = err instanceof MeshError ? err.code : "INTERNAL";
      this.metrics.rejected.inc({ signal, reason: code });
      // Drain what the client is still sending so the connection can be reused for its retry.
      if (!req.readableEnded) req.resume();
      throw err;
    }
  }

  private async read(ctx: Ctx): Promise<void> {
    const { req, res, url } = ctx;
    let status = 200;
    try {
      if (req.method !== "GET") throw new MeshError("METHOD_NOT_ALLOWED", `Use GET ${url.pathname}.`, { headers: { allow: "GET" } });
      await this.principal(ctx, "read");
      if (url.pathname === "/metrics") {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { "content-type": this.metrics.registry.contentType });
        res.end(text);
        return;
      }
      this.json(res, 200, await this.query(url));
    } catch (err) {
      status = err instanceof MeshError ? err.status : 500;
      throw err;
    } finally {
      const p = ctx.principal;
      this.opts.audit.record({ time: new Date().toISOString(), principal: p?.name ?? "(anonymous)", role: p?.role ?? "", via: p?.via ?? "", action: "read", path: url.pathname, query: url.search.slice(0, 512), status });
    }
  }

  /** The query API. Windows are in seconds (?window=60). */
  private async query(url: URL): Promise<unknown> {
    const q = url.searchParams;
    const store = this.opts.store;
    const windowS = Number(q.get("window") ?? 60);
    if (!Number.isFinite(windowS) || windowS <= 0 || windowS > store.opts.retentionMs / 1000) throw new MeshError("BAD_REQUEST", `window must be seconds in (0, ${store.opts.retentionMs / 1000}].`);
    const w = windowOf(store, windowS * 1000);
    const p = url.pathname.slice("/api/".length);
    const need = (name: string) => {
      const v = q.get(name);
      if (!v) throw new MeshError("BAD_REQUEST", `Query parameter "${name}" is required.`);
      return v;
    };
    switch (p) {
      case "overview": {
        const view = await this.configSource.view();
        // The canary panel wants a short window so a weight change shows within seconds.
        const splitS = Math.min(windowS, Number(q.get("splitWindow") ?? windowS) || windowS);
        return { window: windowS, splitWindow: splitS, now: Date.now(), services: services(store, w), edges: edges(store, w), splits: splits(store, windowOf(store, splitS * 1000), view.splits), anomalies: this.anomalies.list().active, configVersion: view.version, configStale: view.stale };
      }
      case "services":
        return { window: windowS, items: services(store, w) };
      case "edges":
        return { window: windowS, items: edges(store, w) };
      case "routes":
        return { window: windowS, items: routes(store, w, q.get("service") ?? undefined) };
      case "timeseries":
        return { window: windowS, service: need("service"), route: q.get("route") ?? null, ...timeseries(store, windowS * 1000, need("service"), q.get("route") ?? undefined) };
      case "traces": {
        const minDuration = q.get("minDuration");
        const limit = q.get("limit");
        return {
          items: store.traces.search({
            ...(q.get("service") ? { service: q.get("service")! } : {}),
            ...(q.get("route") ? { route: q.get("route")! } : {}),
            ...(q.get("status") ? { status: q.get("status")! } : {}),
            ...(q.get("traceId") ? { traceId: q.get("traceId")! } : {}),
            ...(minDuration ? { minDurationMs: Number(minDuration) } : {}),
            ...(limit ? { limit: Number(limit) } : {}),
          }),
        };
      }
      case "timeline":
        return await this.configSource.view().then((v) => ({ source: v.source, stale: v.stale, error: v.error, version: v.version, items: v.timeline }));
      case "splits":
        return { window: windowS, items: splits(store, w, (await this.configSource.view()).splits) };
      case "anomalies":
        return this.anomalies.list();
      case "senders":
        return { items: [...store.volume.senders].map(([sender, b]) => ({ sender, items: [...b.values()].reduce((a, n) => a + n, 0) })) };
      case "logs": {
        const traceId = q.get("traceId");
        const service = q.get("service");
        return { items: store.logs.find((l) => (!traceId || l.traceId === traceId) && (!service || l.service === service), Math.min(Number(q.get("limit") ?? 100) || 100, 1000)) };
      }
      case "stats":
        return { received: store.received, traces: store.traces.traceCount, spans: store.traces.spanCount, series: store.rollups.series.size, evictedTraces: store.traces.evictedTraces, droppedSpans: store.traces.droppedSpans };
    }
    if (p.startsWith("traces/")) {
      const id = decodeURIComponent(p.slice("traces/".length));
      const spans = store.traces.get(id);
      if (!spans) throw new MeshError("NOT_FOUND", `No trace ${id} (it may have been evicted; the collector keeps the newest ${store.opts.maxTraces}).`);
      return { ...store.traces.summarize(id.toLowerCase(), spans), items: [...spans].sort((a, b) => a.startMs - b.startMs) };
    }
    throw new MeshError("NOT_FOUND", `No API ${url.pathname}.`);
  }

  private async staticFile(ctx: Ctx): Promise<void> {
    const { req, res, url } = ctx;
    if (req.method !== "GET" && req.method !== "HEAD") throw new MeshError("METHOD_NOT_ALLOWED", undefined, { headers: { allow: "GET, HEAD" } });
    const rel = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname).replace(/^\/+/, "");
    const file = path.resolve(this.webRoot, rel);
    if (!file.startsWith(path.resolve(this.webRoot) + path.sep)) throw new MeshError("NOT_FOUND");
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      throw new MeshError("NOT_FOUND", `No file ${url.pathname}.`);
    }
    res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream", "content-length": data.length, "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : data);
  }
}
