// GET /metrics: Prometheus text by default, OpenMetrics (with trace-id exemplars) when the scraper's Accept asks.
// The registry's content type is one setting, so scrapes are serialized: two overlapping scrapes of different
// formats would otherwise render each other's format.
import type { IncomingMessage, ServerResponse } from "node:http";
import client from "prom-client";

export function metricsEndpoint(registry: client.Registry): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  return async (req, res) => {
    const openMetrics = /application\/openmetrics-text/i.test(req.headers.accept ?? "");
    const run = queue.then(async () => {
      if (!openMetrics) return { text: await registry.metrics(), type: registry.contentType };
      // prom-client (15.x) renames counters in place (drops `_total`) when it renders OpenMetrics, which would
      // break every later Prometheus-text scrape: remember the names and put them back.
      const names = registry.getMetricsAsArray().map((m) => [m, m.name] as const);
      registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as never);
      try {
        return { text: await registry.metrics(), type: registry.contentType };
      } finally {
        for (const [m, name] of names) (m as { name: string }).name = name;
        registry.setContentType(client.Registry.PROMETHEUS_CONTENT_TYPE as never);
      }
    });
    queue = run.catch(() => undefined);
    const { text, type } = await run;
    res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
}
