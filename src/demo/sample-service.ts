// A small sample service for the demo and tests: answers JSON and, when told, calls other services
// through its sidecar's outbound listener (HTTP_PROXY style), forwarding trace headers as apps must.
import http from "node:http";
import { request } from "undici";

export interface SampleServiceOptions {
  name: string;
  version?: string;
  port: number;
  host?: string;
  /** Services to call on each request, via the outbound sidecar at `outbound`. */
  calls?: string[];
  outbound?: string;
  /** Extra latency in ms, and an error ratio, to make the demo interesting. */
  latencyMs?: number;
  errorRatio?: number;
  /** Answer with the downstream failure (429 as 429, 5xx or unreachable as 502), as a real caller would. */
  propagateErrors?: boolean;
}

const FORWARDED = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-request-id", "baggage"];

export function startSampleService(o: SampleServiceOptions): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    if (o.latencyMs) await new Promise((r) => setTimeout(r, o.latencyMs! * (0.5 + Math.random())));
    if (o.errorRatio && Math.random() < o.errorRatio) {
      res.writeHead(500, { "content-type": "application/json" });
      return res.end(JSON.stringify({ service: o.name, error: "simulated failure" }));
    }
    const downstream: unknown[] = [];
    let failed = 0;
    for (const svc of o.calls ?? []) {
      const headers: Record<string, string> = { host: svc };
      for (const h of FORWARDED) {
        const v = req.headers[h];
        if (typeof v === "string") headers[h] = v;
      }
      try {
        const r = await request(`http://${o.outbound}${req.url ?? "/"}`, { headers });
        downstream.push({ service: svc, status: r.statusCode, error: r.headers["x-outrigger-error"], body: await r.body.json().catch(() => null) });
        if (r.statusCode === 429 || r.statusCode >= 500) failed = Math.max(failed, r.statusCode === 429 ? 429 : 502);
      } catch (err) {
        downstream.push({ service: svc, error: (err as Error).message });
        failed = 502;
      }
    }
    const body = JSON.stringify({ service: o.name, version: o.version ?? "v1", path: req.url, requestId: req.headers["x-request-id"], tookMs: Date.now() - started, downstream });
    res.writeHead(o.propagateErrors && failed ? failed : 200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(o.port, o.host ?? "127.0.0.1", () => resolve(server)));
}
