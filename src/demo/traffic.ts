// The demo's steady traffic: a fixed request rate into the frontend's inbound sidecar, bounded in flight, with a
// running tally for the status line. Requests past the in-flight cap are skipped and counted, never queued.
import { Agent, request } from "undici";

export interface TrafficStats {
  sent: number;
  ok: number;
  errors: number;
  skipped: number;
  byStatus: Map<number, number>;
}

const PATHS = ["/api/checkout", "/api/checkout", "/api/checkout", "/api/cart"];

export class TrafficGenerator {
  readonly stats: TrafficStats = { sent: 0, ok: 0, errors: 0, skipped: 0, byStatus: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  constructor(readonly target: string, readonly ratePerSecond: number, readonly maxInflight = 64) {}

  start(): void {
    const every = Math.max(5, Math.round(1000 / this.ratePerSecond));
    let i = 0;
    this.timer = setInterval(() => this.fire(PATHS[i++ % PATHS.length]!), every);
  }

  private fire(path: string): void {
    if (this.inflight >= this.maxInflight) {
      this.stats.skipped++;
      return;
    }
    this.inflight++;
    this.stats.sent++;
    request(this.target + path, { dispatcher: this.agent, headers: { "user-agent": "outrigger-demo-traffic", "x-client-id": "demo-traffic" }, headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (r) => {
        await r.body.dump();
        this.stats.byStatus.set(r.statusCode, (this.stats.byStatus.get(r.statusCode) ?? 0) + 1);
        if (r.statusCode < 400) this.stats.ok++;
        else this.stats.errors++;
      })
      .catch(() => {
        this.stats.errors++;
      })
      .finally(() => this.inflight--);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.agent.close().catch(() => {});
  }
}
