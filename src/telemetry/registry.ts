// The sidecar's Prometheus registry (prom-client: the field's maintained client; OpenMetrics + exemplars).
// One registry per sidecar process so tests can run several sidecars in one process without collisions.
import client from "prom-client";

export interface MetricsRegistry {
  registry: client.Registry;
  requests: client.Counter<"direction" | "service" | "route" | "method" | "code">;
  configReloads: client.Counter<"result">;
}

export function createRegistry(service: string): MetricsRegistry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry, prefix: "outrigger_process_" });
  return {
    registry,
    requests: new client.Counter({
      name: "outrigger_requests_total",
      help: "Requests handled by the sidecar.",
      labelNames: ["direction", "service", "route", "method", "code"] as const,
      registers: [registry],
    }),
    configReloads: new client.Counter({
      name: "outrigger_config_reloads_total",
      help: "Config reloads by result (applied, rejected).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
  };
}
