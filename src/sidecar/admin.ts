// Admin port (Envoy's vocabulary): /healthz /readyz /config /metrics, POST /drain and POST /quitquitquit.
import http from "node:http";
import type { Address } from "../config/units.js";
import type { Sidecar } from "./server.js";
import { redact } from "../config/redact.js";

export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly sidecar: Sidecar) {
    this.server = http.createServer((req, res) => void this.handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "INTERNAL", message: String((err as Error).message) } }));
    }));
    this.server.keepAliveTimeout = 5000;
  }

  listen(addr: Address): Promise<Address> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(addr.port, addr.host, () => {
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port, key: a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://admin");
    const sc = this.sidecar;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body, null, 2));
    };
    for (const f of sc.features) if (f.admin && (await f.admin(req, res, url))) return;
    switch (`${req.method} ${url.pathname}`) {
      case "GET /healthz":
        return json(200, { status: "alive", uptimeSeconds: Math.round((Date.now() - sc.startedAt) / 1000) });
      case "GET /readyz": {
        const detail: Record<string, unknown> = {};
        let ready = sc.ready;
        for (const f of sc.features) {
          const r = f.readiness?.();
          if (!r) continue;
          detail[f.name] = r.detail;
          ready &&= r.ready;
        }
        return json(ready ? 200 : 503, { status: ready ? "ready" : sc.draining ? "draining" : sc.ready ? "degraded" : "starting", configVersion: sc.currentPlan.version, listeners: sc.bound, ...detail });
      }
      case "GET /config":
        return json(200, { version: sc.currentPlan.version, resources: redact(sc.currentPlan.resources) });
      case "GET /metrics": {
        const reg = sc.metrics.registry;
        const openMetrics = (req.headers.accept ?? "").includes("application/openmetrics-text");
        if (openMetrics) reg.setContentType("application/openmetrics-text; version=1.0.0; charset=utf-8" as never);
        else reg.setContentType("text/plain; version=0.0.4; charset=utf-8" as never);
        const text = await reg.metrics();
        res.writeHead(200, { "content-type": reg.contentType });
        return void res.end(text);
      }
      case "POST /quitquitquit": {
        // For Jobs on clusters without native sidecars: the app asks its sidecar to drain and exit when it is done.
        // Loopback only, so nothing but the pod itself can stop its sidecar.
        if (!isLoopback(req.socket.remoteAddress)) return json(403, { error: { code: "FORBIDDEN", message: "POST /quitquitquit is accepted only from the pod itself (loopback)." } });
        json(202, { status: "exiting", inflight: sc.inflight });
        // The same path as the kubelet's SIGTERM: drain, close, exit 0 (handled by `outrigger sidecar`).
        res.once("finish", () => process.kill(process.pid, "SIGTERM"));
        return;
      }
      case "POST /drain": {
        json(202, { status: "draining", inflight: sc.inflight });
        void sc.drain();
        return;
      }
      default:
        return json(404, { error: { code: "NOT_FOUND", message: `No admin endpoint ${req.method} ${url.pathname}. Try /healthz, /readyz, /config, /metrics, POST /drain, POST /quitquitquit.` } });
    }
  }
}

const isLoopback = (addr: string | undefined) => !!addr && (addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127."));
