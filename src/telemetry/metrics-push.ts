// OTLP metrics push: every interval, the sidecar's prom-client registry (the same numbers /metrics shows) is
// converted to OTLP data points — counters as cumulative monotonic sums, gauges as gauges, histograms with
// per-bucket (not cumulative) counts — encoded by otlp-transformer and sent through the span exporter's
// transport (same auth, TLS, retries, byte budget). Runs on an unref'd timer, never on the request path.
import type { Logger } from "pino";
import { ValueType, type Attributes } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import type { Plan } from "../config/compile.js";
import type { MetricsRegistry } from "./registry.js";
import type { TelemetryBudget } from "./budget.js";
import type { OtlpSender } from "./export.js";

type HrTime = [number, number];
const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

interface PromValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}
interface PromMetric {
  name: string;
  help: string;
  type: string;
  values: PromValue[];
}

const attrs = (labels: Record<string, string | number>, drop?: string): Attributes => {
  const out: Attributes = {};
  for (const k in labels) if (k !== drop) out[k] = labels[k];
  return out;
};

/** prom-client's JSON view -> OTLP MetricData (exported for tests). */
export function toOtlp(metrics: PromMetric[], startMs: number, nowMs: number): MetricData[] {
  const start = hr(startMs);
  const end = hr(nowMs);
  const out: MetricData[] = [];
  for (const m of metrics) {
    const unit = m.name.endsWith("_seconds") || m.name.includes("_seconds_") ? "s" : m.name.endsWith("_bytes") || m.name.includes("_bytes_") ? "By" : "";
    const descriptor = { name: m.name, description: m.help, unit, valueType: ValueType.DOUBLE };
    if (m.type === "counter" || m.type === "gauge") {
      const dataPoints = m.values.map((v) => ({ startTime: start, endTime: end, attributes: attrs(v.labels), value: v.value }));
      out.push(m.type === "counter" ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints } : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints });
    } else if (m.type === "histogram") {
      const series = new Map<string, { attributes: Attributes; bounds: number[]; cumulative: number[]; sum: number; count: number }>();
      for (const v of m.values) {
        const a = attrs(v.labels, "le");
        const key = JSON.stringify(a);
        let s = series.get(key);
        if (!s) series.set(key, (s = { attributes: a, bounds: [], cumulative: [], sum: 0, count: 0 }));
        if (v.metricName?.endsWith("_bucket")) {
          if (v.labels.le !== "+Inf") s.bounds.push(Number(v.labels.le));
          s.cumulative.push(v.value);
        } else if (v.metricName?.endsWith("_sum")) s.sum = v.value;
        else if (v.metricName?.endsWith("_count")) s.count = v.value;
      }
      out.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...series.values()].map((s) => ({
          startTime: start,
          endTime: end,
          attributes: s.attributes,
          value: { buckets: { boundaries: s.bounds, counts: s.cumulative.map((c, i) => c - (i ? s.cumulative[i - 1]! : 0)) }, sum: s.sum, count: s.count },
        })),
      });
    }
  }
  return out;
}

export class MetricsPush {
  private timer: NodeJS.Timeout | undefined;
  private url: string | undefined;
  private readonly startMs = Date.now();
  private resource = resourceFromAttributes({});
  private busy = false;

  constructor(private readonly metrics: MetricsRegistry, private readonly sender: OtlpSender, private readonly budget: TelemetryBudget, private readonly logger: Logger) {}

  configure(plan: Plan): void {
    const t = plan.telemetry;
    clearInterval(this.timer);
    this.timer = undefined;
    this.url = t.metrics.otlp ? t.export.metricsUrl : undefined;
    this.resource = resourceFromAttributes({ "service.name": t.serviceName ?? plan.sidecar.service, "service.version": plan.sidecar.version, "deployment.environment": plan.sidecar.environment, "service.instance.id": `${plan.sidecar.service}-${process.pid}` });
    if (!this.url) return;
    this.timer = setInterval(() => void this.push(), t.metrics.otlpIntervalMs);
    this.timer.unref();
  }

  async push(): Promise<void> {
    const url = this.url;
    if (!url || this.busy || !this.sender.plan) return;
    this.busy = true;
    try {
      const json = (await this.metrics.registry.getMetricsAsJSON()) as unknown as PromMetric[];
      const rm: ResourceMetrics = { resource: this.resource, scopeMetrics: [{ scope: { name: "outrigger" }, metrics: toOtlp(json, this.startMs, Date.now()) }] };
      const body = await this.sender.encode(ProtobufMetricsSerializer.serializeRequest(rm)!);
      if (!this.budget.exportBytes.take(body.length)) {
        this.metrics.telemetryDropped.inc({ signal: "metrics", reason: "budget" });
        return;
      }
      const result = await this.sender.send(url, body, "metrics");
      this.metrics.exported.inc({ signal: "metrics", result: result === "ok" ? "ok" : "failed" });
      if (result === "ok") this.metrics.exportBytes.inc({ signal: "metrics" }, body.length);
      else this.metrics.telemetryDropped.inc({ signal: "metrics", reason: result === "closed" ? "retries_exhausted" : result });
    } catch (err) {
      this.logger.warn({ event: "telemetry.metrics.push", err: (err as Error).message }, "metrics push failed");
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
