// App envelopes -> OpenTelemetry signals, correlated with the request the app is handling: by requestId or span
// id to the live inbound span (events land on it, spans become its children), else by traceId/spanId as a remote
// parent. Metrics become app metric families (label `name`, bounded); logs become JSON lines with trace ids.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import client from "prom-client";
import type { Logger } from "pino";
import type { Envelope } from "./envelope-schema.js";
import type { EnvelopeHandler } from "../sidecar/envelope.js";
import type { Tracing } from "./tracing.js";
import type { MetricsRegistry } from "./registry.js";
import type { TelemetryBudget } from "./budget.js";
import { LabelSets } from "./label-sets.js";

const MAX_APP_METRIC_NAMES = 200;

/** Live inbound spans by request id and span id, so an envelope can find the request it belongs to. Bounded. */
export class LiveSpans {
  private readonly byRequest = new Map<string, Span>();
  private readonly bySpan = new Map<string, Span>();
  constructor(private readonly onFull: () => void, private readonly cap = 10_000) {}
  add(requestId: string, span: Span): void {
    // A full table only loses correlation for this request (counted), never memory.
    if (this.byRequest.size >= this.cap) return this.onFull();
    this.byRequest.set(requestId, span);
    this.bySpan.set(span.spanContext().spanId, span);
  }
  remove(requestId: string, span: Span): void {
    this.byRequest.delete(requestId);
    this.bySpan.delete(span.spanContext().spanId);
  }
  find(env: Envelope): Span | undefined {
    return (env.requestId ? this.byRequest.get(env.requestId) : undefined) ?? (env.spanId ? this.bySpan.get(env.spanId) : undefined);
  }
}

const timeOf = (env: Envelope): number => (env.ts === undefined ? Date.now() : typeof env.ts === "number" ? env.ts : Date.parse(env.ts));

function parentContext(env: Envelope, live: Span | undefined): Context {
  if (live) return trace.setSpan(ROOT_CONTEXT, live);
  if (env.traceId && env.spanId) return trace.setSpanContext(ROOT_CONTEXT, { traceId: env.traceId, spanId: env.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  return ROOT_CONTEXT;
}

const correlation = (live: Span | undefined, env: Envelope) => (live ? "request" : env.traceId ? "trace" : "none");

export function envelopeHandlers(deps: { tracing: Tracing; live: LiveSpans; metrics: MetricsRegistry; budget: TelemetryBudget; logger: Logger }): Record<"event" | "span" | "metric" | "log", EnvelopeHandler> {
  const { tracing, live, metrics, budget, logger } = deps;
  const registers = [metrics.registry];
  const overflow = () => metrics.labelOverflow.inc({ metric: "outrigger_app_*" });
  const counter = new client.Counter({ name: "outrigger_app_events_total", help: "App-reported counters (envelope kind metric, metricType counter), by name.", labelNames: ["name"] as const, registers });
  const gauge = new client.Gauge({ name: "outrigger_app_gauge", help: "App-reported gauges (envelope kind metric, metricType gauge), by name.", labelNames: ["name"] as const, registers });
  const histogram = new client.Histogram({ name: "outrigger_app_observations", help: "App-reported observations (envelope kind metric, metricType histogram), by name; the unit is the app's.", labelNames: ["name"] as const, buckets: [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000], registers });
  const names = new LabelSets<string>(MAX_APP_METRIC_NAMES, (key, over) => (over ? "__overflow__" : key), overflow);
  const logDropped = metrics.telemetryDropped.labels({ signal: "logs", reason: "budget" });

  const startChild = (env: Envelope, kind: SpanKind, start: number) => {
    const l = live.find(env);
    const span = tracing.appTracer.startSpan(env.name, { kind, startTime: start, attributes: { ...(env.attributes as Attributes | undefined), "outrigger.source": "app", ...(env.requestId ? { "outrigger.request_id": env.requestId } : {}) } }, parentContext(env, l));
    return { span, l };
  };

  return {
    event(env) {
      const at = timeOf(env);
      const l = live.find(env);
      if (l?.isRecording()) {
        l.addEvent(env.name, env.attributes as Attributes | undefined, at);
        return { correlated: "request", traceId: l.spanContext().traceId };
      }
      const { span } = startChild(env, SpanKind.INTERNAL, at);
      span.end(at);
      return { correlated: correlation(undefined, env), traceId: span.spanContext().traceId };
    },
    span(env) {
      const start = timeOf(env);
      const { span, l } = startChild(env, SpanKind.INTERNAL, start);
      if (env.status === "error") span.setStatus({ code: SpanStatusCode.ERROR });
      else if (env.status === "ok") span.setStatus({ code: SpanStatusCode.OK });
      span.end(start + (env.durationMs ?? 0));
      return { correlated: correlation(l, env), traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
    },
    metric(env) {
      const name = names.get(env.name);
      const value = env.value ?? 1;
      switch (env.metricType ?? "counter") {
        case "gauge":
          gauge.set({ name }, value);
          break;
        case "histogram":
          histogram.observe({ name }, value);
          break;
        default:
          if (value < 0) throw new Error("a counter only goes up: value must be ≥ 0");
          counter.inc({ name }, value);
      }
      return { metric: name };
    },
    log(env) {
      const l = live.find(env);
      const sc = l?.spanContext();
      if (l?.isRecording()) l.addEvent("log", { "log.severity": env.severity ?? "info", "log.message": env.name });
      if (!budget.logLines.take()) {
        logDropped.inc();
        return { logged: false };
      }
      const level = (env.severity ?? "info") as "debug" | "info" | "warn" | "error";
      logger[level]({ log: "app", trace_id: sc?.traceId ?? env.traceId, span_id: sc?.spanId ?? env.spanId, request_id: env.requestId, attributes: env.attributes, app_time: env.ts }, env.name);
      return { logged: true, correlated: correlation(l, env) };
    },
  };
}
