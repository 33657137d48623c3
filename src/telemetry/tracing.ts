// Tracing: a SERVER span per inbound request, a CLIENT span per outbound request, continuing the caller's trace
// and injecting this span's context upstream so the next sidecar (and the app) continue it. Two policies:
// `traceStart` (observe slot) extracts the caller's context and owns the span's end; `traceRoute` (first in the
// admit slot, after routing) starts the span — the sampler needs the route — and injects the context.
// Spans go to a tail check (keep errors/slow) and then the bounded export queue; nothing blocks a request.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { Plan } from "../config/compile.js";
import type { Exchange, Policy } from "../sidecar/chain.js";
import type { Outcome } from "../sidecar/chain.js";
import { Propagation, type PropagationFormat } from "./propagation.js";
import { MeshSampler, ROUTE_ATTRIBUTE } from "./sampling.js";
import type { TelemetryBudget } from "./budget.js";
import type { SpanExport } from "./export.js";
import type { MetricsRegistry } from "./registry.js";
import type { LiveSpans } from "./envelope-signals.js";

const KEPT = "outrigger.sampling.kept";
const VERSION = "0.1.0";

/** Per-exchange trace state, kept on ex.notes.trace. */
export interface ExchangeTrace {
  parent: Context;
  span: Span | undefined;
}

export const traceOf = (ex: Exchange): ExchangeTrace | undefined => ex.notes.trace as ExchangeTrace | undefined;

/** trace id of the exchange's span when it is sampled (exemplars use it). */
export function sampledTraceId(ex: Exchange): string | undefined {
  const sc = traceOf(ex)?.span?.spanContext();
  return sc && sc.traceFlags & TraceFlags.SAMPLED ? sc.traceId : undefined;
}

// hrtime (monotonic, ns) -> epoch ms for span timestamps; fixed at start so durations stay monotonic.
const EPOCH_OFFSET_MS = Date.now() - Number(process.hrtime.bigint()) / 1e6;
const epochMs = (hr: bigint) => EPOCH_OFFSET_MS + Number(hr) / 1e6;

class TailProcessor implements SpanProcessor {
  constructor(private readonly tracing: Tracing) {}
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.tracing.onSpanEnd(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export class Tracing {
  readonly sampler: MeshSampler;
  private provider!: BasicTracerProvider;
  private tracer!: Tracer;
  private resourceKey = "";
  private propagation = new Propagation(["tracecontext"]);
  private settings!: Plan["telemetry"]["tracing"];
  /** Set when the app envelope is served: inbound spans the app may refer to by request or span id. */
  live: LiveSpans | undefined;

  constructor(plan: Plan, private readonly metrics: MetricsRegistry, budget: TelemetryBudget, private readonly exporter: SpanExport) {
    this.sampler = new MeshSampler(plan.telemetry.tracing, budget, {
      shed: () => metrics.telemetryDropped.inc({ signal: "spans", reason: "budget" }),
      pendingFull: () => metrics.telemetryDropped.inc({ signal: "spans", reason: "pending_full" }),
    });
    this.budget = budget;
    this.configure(plan);
  }
  private readonly budget: TelemetryBudget;

  configure(plan: Plan): void {
    this.settings = plan.telemetry.tracing;
    this.sampler.configure(plan.telemetry.tracing);
    const formats = (plan.mesh.propagation ?? ["tracecontext"]) as PropagationFormat[];
    if (formats.join() !== this.propagation.formats.join()) this.propagation = new Propagation(formats);
    const s = plan.sidecar;
    const attrs = {
      "service.name": plan.telemetry.serviceName ?? s.service,
      "service.version": s.version,
      "service.namespace": s.namespace,
      "deployment.environment": s.environment,
      "deployment.environment.name": s.environment,
      "service.instance.id": `${s.service}-${process.pid}`,
      "telemetry.sdk.name": "opentelemetry",
      "telemetry.sdk.language": "nodejs",
    };
    const key = JSON.stringify(attrs);
    if (key !== this.resourceKey) {
      this.resourceKey = key;
      this.provider = new BasicTracerProvider({ resource: resourceFromAttributes(attrs), sampler: this.sampler, spanProcessors: [new TailProcessor(this)], spanLimits: { attributeCountLimit: 64, eventCountLimit: 64, attributeValueLengthLimit: 1024 } });
      this.tracer = this.provider.getTracer("outrigger", VERSION);
    }
  }

  onSpanEnd(span: ReadableSpan): void {
    const sampled = (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    if (!sampled) {
      this.sampler.pending--;
      if (span.attributes[KEPT] === undefined) return;
      if (!this.budget.spans.take()) {
        this.metrics.telemetryDropped.inc({ signal: "spans", reason: "budget" });
        return;
      }
    }
    this.exporter.enqueue(span);
  }

  /** observe slot: continue the caller's trace; the span itself starts once the route is known. */
  traceStart(direction: "inbound" | "outbound"): Policy {
    return (ex, next) => {
      const state: ExchangeTrace = { parent: this.propagation.extract(ex.headers), span: undefined };
      ex.notes.trace = state;
      ex.onEnd((o) => this.finish(ex, state, o, direction));
      return next(ex);
    };
  }

  /** admit slot (first): start the span with the route so per-route sampling applies, then propagate it. */
  traceRoute(direction: "inbound" | "outbound"): Policy {
    return (ex, next) => {
      const state = traceOf(ex);
      if (state && !state.span) {
        state.span = this.startSpan(ex, state, direction);
        if (this.live && direction === "inbound") this.live.add(ex.requestId, state.span);
        this.propagation.inject(trace.setSpan(ROOT_CONTEXT, state.span), ex.headers);
      }
      return next(ex);
    };
  }

  private startSpan(ex: Exchange, state: ExchangeTrace, direction: "inbound" | "outbound"): Span {
    const n = ex.notes;
    const q = ex.path.indexOf("?");
    const route = n.route ?? "unknown";
    const server = direction === "inbound";
    return this.tracer.startSpan(
      `${ex.method} ${route}`,
      {
        kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
        startTime: epochMs(ex.start),
        attributes: {
          "http.request.method": ex.method,
          "url.path": q < 0 ? ex.path : ex.path.slice(0, q),
          "url.scheme": "http",
          "server.address": ex.host,
          "network.peer.address": ex.peer.address,
          "network.peer.port": ex.peer.port,
          "network.protocol.version": "1.1",
          [ROUTE_ATTRIBUTE]: route,
          "outrigger.request_id": ex.requestId,
          ...(n.backend ? { "outrigger.backend": n.backend } : {}),
          ...(n.subset ? { "outrigger.subset": n.subset } : {}),
          ...(typeof ex.headers["user-agent"] === "string" ? { "user_agent.original": ex.headers["user-agent"] } : {}),
        },
      },
      state.parent,
    );
  }

  private finish(ex: Exchange, state: ExchangeTrace, o: Outcome, direction: "inbound" | "outbound"): void {
    // A request that failed before routing (unknown host, no route) still gets its span.
    const span = (state.span ??= this.startSpan(ex, state, direction));
    if (this.live && direction === "inbound") this.live.remove(ex.requestId, span);
    if (!span.isRecording()) return;
    const n = ex.notes;
    span.setAttribute("http.response.status_code", o.status);
    span.setAttribute("http.request.body.size", o.bytesIn);
    span.setAttribute("http.response.body.size", o.bytesOut);
    if (n.retries) span.setAttribute("outrigger.retries", n.retries);
    if (n.endpoint) {
      const i = n.endpoint.lastIndexOf(":");
      if (direction === "outbound") span.setAttributes({ "network.peer.address": n.endpoint.slice(0, i).replace(/^\[|\]$/g, ""), "network.peer.port": Number(n.endpoint.slice(i + 1)) });
    }
    if (n.backend) span.setAttribute("outrigger.backend", n.backend);
    if (n.fault) span.setAttribute("outrigger.fault", n.fault);
    // Security: the caller's verified SPIFFE ID and the authorization policy that denied (or would deny, dry-run).
    if (ex.peer.identity) span.setAttribute("outrigger.peer.identity", ex.peer.identity);
    if (typeof n.authzPolicy === "string") span.setAttribute("outrigger.authz.policy", n.authzPolicy);
    if (typeof n.authzDryRun === "string") span.setAttribute("outrigger.authz.dry_run_policy", n.authzDryRun);
    const error = n.errorCode ?? (o.aborted ? "CLIENT_CLOSED" : undefined);
    if (error) {
      span.setAttribute("outrigger.error_code", error);
      span.setAttribute("error.type", error);
    }
    // Semconv: server spans are errors on 5xx only, client spans on 4xx too; a mesh error always is.
    const failed = error !== undefined || o.status >= (direction === "inbound" ? 500 : 400) || o.status === 0;
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
    if (!(span.spanContext().traceFlags & TraceFlags.SAMPLED)) {
      const s = this.settings;
      if (s.keepErrors && failed) span.setAttribute(KEPT, "error");
      else if (s.slowMs > 0 && o.durationSeconds * 1000 >= s.slowMs) span.setAttribute(KEPT, "slow");
    }
    span.end(epochMs(ex.start) + o.durationSeconds * 1000);
  }

  /** Spans started by the app envelope: same provider, resource and export path. */
  get appTracer(): Tracer {
    return this.tracer;
  }
}
