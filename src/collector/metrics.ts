// The collector's own Prometheus metrics: what it received, rejected, dropped and evicted, storage sizes and
// anomalies. Counters owned by other modules are read at scrape time (collect), so ingest stays cheap.
import client from "prom-client";
import type { AnomalyDetector } from "./anomalies.js";
import type { AuditLog } from "./audit.js";
import type { Forwarder } from "./forward.js";
import type { Segments } from "./storage/segments.js";
import type { Store } from "./store.js";

export interface CollectorMetrics {
  registry: client.Registry;
  received: client.Counter<"signal" | "sender" | "encoding">;
  rejected: client.Counter<"signal" | "reason">;
  requests: client.Counter<"path" | "code">;
}

export function createCollectorMetrics(deps: { store: Store; anomalies: AnomalyDetector; audit: AuditLog; forwarder?: Forwarder; segments?: Segments }): CollectorMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "outrigger_collector_process_" });
  const { store, anomalies, audit, forwarder, segments } = deps;
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: client.Gauge<string>) => void) =>
    new client.Gauge({ name, help, labelNames, registers: [registry], collect(this: client.Gauge<string>) { this.reset(); collect(this); } });

  gauge("outrigger_collector_dropped", "Telemetry items dropped or evicted by the collector, by reason (cumulative).", ["reason"], (g) => {
    g.set({ reason: "trace_evicted" }, store.traces.evictedTraces);
    g.set({ reason: "span_per_trace_cap" }, store.traces.droppedSpans);
    g.set({ reason: "series_cap" }, store.rollups.droppedSeries);
    g.set({ reason: "log_overwritten" }, store.logs.overwritten);
    g.set({ reason: "metric_point_overwritten" }, store.metrics.overwritten);
    g.set({ reason: "sender_cap" }, store.volume.droppedSenders);
    g.set({ reason: "audit_queue_full" }, audit.dropped);
    if (segments) g.set({ reason: "segment_backlog" }, segments.dropped);
    if (forwarder) g.set({ reason: "forward_failed" }, forwarder.dropped);
  });
  gauge("outrigger_collector_stored", "Items held in memory now.", ["kind"], (g) => {
    g.set({ kind: "traces" }, store.traces.traceCount);
    g.set({ kind: "spans" }, store.traces.spanCount);
    g.set({ kind: "series" }, store.rollups.series.size);
    g.set({ kind: "logs" }, store.logs.size);
    g.set({ kind: "metric_points" }, store.metrics.size);
  });
  gauge("outrigger_collector_anomalies_active", "Anomalies active now, by kind.", ["kind"], (g) => {
    for (const [k, n] of anomalies.activeByKind()) g.set({ kind: k }, n);
  });
  gauge("outrigger_collector_anomalies_raised", "Anomalies raised since start, by kind (cumulative).", ["kind"], (g) => {
    for (const [k, n] of anomalies.raisedTotal) g.set({ kind: k }, n);
  });
  if (forwarder)
    gauge("outrigger_collector_forwarded", "OTLP requests forwarded downstream (cumulative).", [], (g) => g.set(forwarder.forwarded));

  return {
    registry,
    received: new client.Counter({ name: "outrigger_collector_received_items_total", help: "Telemetry items accepted, by signal and sender.", labelNames: ["signal", "sender", "encoding"] as const, registers: [registry] }),
    rejected: new client.Counter({ name: "outrigger_collector_rejected_requests_total", help: "Export requests refused, by signal and reason.", labelNames: ["signal", "reason"] as const, registers: [registry] }),
    requests: new client.Counter({ name: "outrigger_collector_http_requests_total", help: "HTTP requests answered, by path group and status code.", labelNames: ["path", "code"] as const, registers: [registry] }),
  };
}
