// Push to sidecars over server-sent events: one long-lived GET per sidecar, one snapshot serialised once per
// change and written to every subscriber. Event ids (`<version>.<endpoints hash>`) let a sidecar resume.
import type { ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { AnyResource } from "../config/schema.js";
import type { EndpointRecord, Store } from "./store/store.js";

export interface PushedEndpoint {
  address: string;
  labels: Record<string, string>;
  instance: string;
}

/** What a sidecar receives: the mesh-wide resources of one version and the live endpoints of its backends. */
export interface Snapshot {
  id: string;
  version: number;
  hash: string;
  resources: AnyResource[];
  endpoints: Record<string, PushedEndpoint[]>;
}

interface Subscriber {
  res: ServerResponse;
  instance: string;
  service: string;
}

export const PING_MS = 5_000;
const MAX_SUBSCRIBERS = 20_000;
/** A subscriber that cannot keep up (this many bytes unsent) is dropped; it reconnects and resumes. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export class PushHub {
  private readonly subscribers = new Set<Subscriber>();
  private current: { snapshot: Snapshot; frame: string } | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private readonly ping: NodeJS.Timeout;
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.ping = setInterval(() => this.broadcast(": ping\n\n"), PING_MS).unref();
    store.onEvent(() => void this.refresh());
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** Instances subscribed to this replica right now. */
  connected(): Set<string> {
    return new Set([...this.subscribers].map((s) => s.instance));
  }

  async snapshot(): Promise<Snapshot> {
    if (!this.current) await this.refresh();
    return this.current!.snapshot;
  }

  /** Rebuilds the snapshot after a change; concurrent calls coalesce into one more run. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const snap = await buildSnapshot(this.store);
        if (snap.id === this.current?.snapshot.id) continue;
        const frame = `id: ${snap.id}\nevent: config\ndata: ${JSON.stringify(snap)}\n\n`;
        this.current = { snapshot: snap, frame };
        this.broadcast(frame);
      } while (this.again);
    })()
      .catch((err) => this.logger.error({ err }, "cannot build the config snapshot"))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Serves one subscription; `since` is the last event id the sidecar saw (nothing is resent when current). */
  async subscribe(res: ServerResponse, who: { instance: string; service: string }, since: string | undefined): Promise<void> {
    if (this.subscribers.size >= MAX_SUBSCRIBERS) {
      this.dropped++;
      res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
      res.end(JSON.stringify({ error: { code: "OVERLOADED", message: `This replica serves at most ${MAX_SUBSCRIBERS} subscribers.` } }));
      return;
    }
    const snap = await this.snapshot();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.socket?.setNoDelay(true);
    res.write(`retry: 1000\n: subscribed ${who.instance}\n\n`);
    const sub: Subscriber = { res, ...who };
    this.subscribers.add(sub);
    res.once("close", () => this.subscribers.delete(sub));
    if (since !== snap.id) res.write(this.current!.frame);
  }

  close(): void {
    clearInterval(this.ping);
    for (const s of this.subscribers) s.res.destroy();
    this.subscribers.clear();
  }

  private broadcast(frame: string) {
    for (const s of this.subscribers) {
      if (s.res.writableLength > MAX_BUFFERED) {
        this.dropped++;
        this.subscribers.delete(s);
        s.res.destroy();
        continue;
      }
      s.res.write(frame);
    }
  }
}

export async function buildSnapshot(store: Store): Promise<Snapshot> {
  const [head, eps] = await Promise.all([store.head(), store.endpoints()]);
  const resources = head?.resources ?? [];
  const backends = new Set(resources.filter((r) => r.kind === "Backend").map((r) => r.metadata.name));
  const endpoints = groupEndpoints(eps.filter((e) => e.health === "healthy" && backends.has(e.service)));
  const epHash = createHash("sha256").update(JSON.stringify(endpoints)).digest("hex").slice(0, 12);
  const version = head?.version ?? 0;
  return { id: `${version}.${epHash}`, version, hash: head?.hash ?? "", resources, endpoints };
}

function groupEndpoints(eps: EndpointRecord[]): Record<string, PushedEndpoint[]> {
  const out: Record<string, PushedEndpoint[]> = {};
  for (const e of [...eps].sort((a, b) => (a.service + a.instance < b.service + b.instance ? -1 : 1))) (out[e.service] ??= []).push({ address: e.address, labels: e.labels, instance: e.instance });
  return out;
}
