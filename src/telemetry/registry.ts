// The sidecar's Prometheus registry (prom-client: the field's maintained client; OpenMetrics + exemplars).
// One registry per sidecar process so tests can run several sidecars in one process without collisions.
// Every metric and label is listed in docs/metrics.md; keep the two in step.
import client from "prom-client";

/** Labels of the request counter; the histograms use a subset (no code/error_code) to keep series bounded. */
export const REQUEST_LABELS = ["direction", "peer_service", "route", "method", "code", "class", "subset", "error_code"] as const;
export const DURATION_LABELS = ["direction", "peer_service", "route", "method", "class", "subset"] as const;
export const SIZE_LABELS = ["direction", "peer_service", "route"] as const;

/** Seconds; dense under 100 ms where sidecar-to-sidecar hops live, sparse up to the 30 s request ceiling. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Bytes: 64 B to 16 MiB in powers of four. */
export const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

export interface MetricsRegistry {
  registry: client.Registry;
  requests: client.Counter<(typeof REQUEST_LABELS)[number]>;
  duration: client.Histogram<(typeof DURATION_LABELS)[number]>;
  requestBytes: client.Histogram<(typeof SIZE_LABELS)[number]>;
  responseBytes: client.Histogram<(typeof SIZE_LABELS)[number]>;
  inflight: client.Gauge<"direction">;
  labelOverflow: client.Counter<"metric">;
  configReloads: client.Counter<"result">;
  /** Telemetry shed by the budget or dropped by bounded queues, per signal and reason. */
  telemetryDropped: client.Counter<"signal" | "reason">;
  /** Telemetry items exported (spans, metric pushes) by signal and result. */
  exported: client.Counter<"signal" | "result">;
  exportBytes: client.Counter<"signal">;
}

export function createRegistry(service: string): MetricsRegistry {
  // Created as an OpenMetrics registry (prom-client allows exemplars only there); /metrics switches the
  // rendering per scrape (see scrape.ts).
  const registry = new (client.Registry as unknown as new (type: string) => client.Registry)(client.Registry.OPENMETRICS_CONTENT_TYPE);
  registry.setDefaultLabels({ service });
  // Standard names (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_*): what
  // existing dashboards already query.
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // These three are gauges named *_total, which `promtool check metrics` rejects; the handle/request counts
  // they carry are not saturation signals we need.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name);
  const registers = [registry];
  const m: MetricsRegistry = {
    registry,
    requests: new client.Counter({
      name: "outrigger_requests_total",
      help: "Requests handled by the sidecar, counted when the response ends.",
      labelNames: REQUEST_LABELS,
      enableExemplars: true,
      registers,
    }),
    duration: new client.Histogram({
      name: "outrigger_request_duration_seconds",
      help: "Time from the request's arrival at the sidecar to the end of its response.",
      labelNames: DURATION_LABELS,
      buckets: DURATION_BUCKETS,
      enableExemplars: true,
      registers,
    }),
    requestBytes: new client.Histogram({
      name: "outrigger_request_body_bytes",
      help: "Request body size.",
      labelNames: SIZE_LABELS,
      buckets: SIZE_BUCKETS,
      registers,
    }),
    responseBytes: new client.Histogram({
      name: "outrigger_response_body_bytes",
      help: "Response body size.",
      labelNames: SIZE_LABELS,
      buckets: SIZE_BUCKETS,
      registers,
    }),
    inflight: new client.Gauge({
      name: "outrigger_requests_in_flight",
      help: "Requests whose response has not ended yet.",
      labelNames: ["direction"] as const,
      registers,
    }),
    labelOverflow: new client.Counter({
      name: "outrigger_metrics_label_overflow_total",
      help: "Observations recorded under the overflow label set because the metric reached its label-set cap.",
      labelNames: ["metric"] as const,
      registers,
    }),
    configReloads: new client.Counter({
      name: "outrigger_config_reloads_total",
      help: "Config reloads by result (applied, rejected).",
      labelNames: ["result"] as const,
      registers,
    }),
    telemetryDropped: new client.Counter({
      name: "outrigger_telemetry_dropped_total",
      help: "Telemetry items not delivered: shed by the budget, dropped from a full queue, or given up after retries.",
      labelNames: ["signal", "reason"] as const,
      registers,
    }),
    exported: new client.Counter({
      name: "outrigger_telemetry_exported_total",
      help: "Telemetry items sent to the collector, by signal and result.",
      labelNames: ["signal", "result"] as const,
      registers,
    }),
    exportBytes: new client.Counter({
      name: "outrigger_telemetry_export_bytes_total",
      help: "Compressed bytes sent to the collector, by signal.",
      labelNames: ["signal"] as const,
      registers,
    }),
  };
  registry.setContentType(client.Registry.PROMETHEUS_CONTENT_TYPE as never);
  return m;
}
