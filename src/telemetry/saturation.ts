// Saturation gauges, computed at scrape time (nothing on the request path): undici pool connections per
// backend endpoint, event-loop utilization. Event-loop lag, memory and CPU come from prom-client's default
// process metrics (nodejs_eventloop_lag_*, process_resident_memory_bytes, process_cpu_seconds_total).
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import client from "prom-client";
import type { Plan } from "../config/compile.js";
import type { Upstreams } from "../sidecar/upstream/pools.js";

export function registerSaturation(registry: client.Registry, upstreams: Upstreams, plan: () => Plan): void {
  const backendOf = (() => {
    let cached: { plan: Plan; map: Map<string, string> } | undefined;
    return (): Map<string, string> => {
      const p = plan();
      if (cached?.plan === p) return cached.map;
      const map = new Map<string, string>();
      for (const b of p.backends.values()) for (const ep of b.endpoints) if (!map.has(ep.key)) map.set(ep.key, b.name);
      if (!map.has(p.sidecar.app.key)) map.set(p.sidecar.app.key, "app");
      cached = { plan: p, map };
      return map;
    };
  })();
  new client.Gauge({
    name: "outrigger_upstream_connections",
    help: "undici pool connections per backend endpoint: active (running a request), idle (free) and pending requests.",
    labelNames: ["backend", "endpoint", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const names = backendOf();
      for (const s of upstreams.stats()) {
        const backend = names.get(s.key) ?? "unknown";
        this.set({ backend, endpoint: s.key, state: "active" }, s.running);
        this.set({ backend, endpoint: s.key, state: "idle" }, s.free);
        this.set({ backend, endpoint: s.key, state: "pending" }, s.pending);
      }
    },
  });
  new client.Gauge({
    name: "outrigger_upstream_endpoint_ejected",
    help: "1 when passive health checking has ejected the endpoint.",
    labelNames: ["backend", "endpoint"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const names = backendOf();
      for (const s of upstreams.stats()) this.set({ backend: names.get(s.key) ?? "unknown", endpoint: s.key }, s.ejected ? 1 : 0);
    },
  });
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  new client.Gauge({
    name: "outrigger_event_loop_utilization_ratio",
    help: "Fraction of time the event loop was busy since the previous scrape (0..1).",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
