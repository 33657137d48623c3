// Head sampling for the sidecar's spans, decided once the route is known (the span starts in the admit slot):
// always | never | ratio (by trace id: OTel's TraceIdRatioBased, so every sidecar reaches the same decision for
// a trace) | parent-ratio (follow a caller's sampled flag, ratio for roots) | rate-limited (N traces/s, children
// follow their parent). Per-route ratios replace the ratio for that route. A sampled-out span is still recorded
// (bounded by maxPending) when errors or slow requests must be kept, so the decision can be revisited at its end.
import { trace, TraceFlags, type Attributes, type Context, type SpanKind, type Link } from "@opentelemetry/api";
import { SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from "@opentelemetry/sdk-trace-base";
import type { TelemetryPlan } from "../config/compile/telemetry.js";
import { TokenBucket, type TelemetryBudget } from "./budget.js";

export const ROUTE_ATTRIBUTE = "outrigger.route";

const SAMPLED: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const RECORD: SamplingResult = { decision: SamplingDecision.RECORD };
const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

export interface SamplerCounters {
  /** A span the head decision kept but the spans budget had no room for. */
  shed(): void;
  /** A sampled-out span not recorded because the pending buffer is full. */
  pendingFull(): void;
}

export class MeshSampler implements Sampler {
  private settings!: TelemetryPlan["tracing"];
  private readonly ratioSamplers = new Map<number, TraceIdRatioBasedSampler>();
  private rootRatio!: TraceIdRatioBasedSampler;
  private routeSamplers = new Map<string, TraceIdRatioBasedSampler>();
  private readonly perSecond = new TokenBucket(0);
  /** Recorded-but-unsampled spans not yet ended. */
  pending = 0;

  constructor(settings: TelemetryPlan["tracing"], private readonly budget: TelemetryBudget, private readonly counters: SamplerCounters) {
    this.configure(settings);
  }

  /** Compiles ratio samplers once per config version; the hot path only looks them up. */
  configure(settings: TelemetryPlan["tracing"]): void {
    this.settings = settings;
    this.rootRatio = this.ratio(settings.sampler.ratio);
    const routes = new Map<string, TraceIdRatioBasedSampler>();
    for (const [route, r] of settings.routes) routes.set(route, this.ratio(r));
    this.routeSamplers = routes;
    this.perSecond.setRate(settings.sampler.type === "rate-limited" ? settings.sampler.perSecond : Infinity);
  }

  private ratio(r: number): TraceIdRatioBasedSampler {
    let s = this.ratioSamplers.get(r);
    if (!s) this.ratioSamplers.set(r, (s = new TraceIdRatioBasedSampler(r)));
    return s;
  }

  /** The head decision alone (no budget, no recording): exported for tests and `explain`-style tooling. */
  headDecision(ctx: Context, traceId: string, route: string | undefined): boolean {
    const { type } = this.settings.sampler;
    const routeSampler = route === undefined ? undefined : this.routeSamplers.get(route);
    const byRatio = (s: TraceIdRatioBasedSampler) => s.shouldSample(ctx, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
    if (type === "ratio") return byRatio(routeSampler ?? this.rootRatio);
    const parent = trace.getSpanContext(ctx);
    if (parent && type !== "always" && type !== "never") return (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    if (routeSampler) return byRatio(routeSampler);
    switch (type) {
      case "always":
        return true;
      case "never":
        return false;
      case "rate-limited":
        return this.perSecond.take();
      default:
        return byRatio(this.rootRatio);
    }
  }

  shouldSample(ctx: Context, traceId: string, _name: string, _kind: SpanKind, attributes: Attributes, _links: Link[]): SamplingResult {
    const route = attributes[ROUTE_ATTRIBUTE] as string | undefined;
    if (this.headDecision(ctx, traceId, route)) {
      if (this.budget.spans.take()) return SAMPLED;
      this.counters.shed();
    }
    const s = this.settings;
    if (!s.keepErrors && s.slowMs === 0) return DROP;
    if (this.pending >= s.maxPending) {
      this.counters.pendingFull();
      return DROP;
    }
    this.pending++;
    return RECORD;
  }

  toString(): string {
    return `MeshSampler{${this.settings.sampler.type}}`;
  }
}
