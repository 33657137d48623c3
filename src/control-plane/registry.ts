// The service registry and sidecar status: sidecars heartbeat (registering their inbound endpoint with a TTL),
// ACK or NACK each version, and deregister when they drain. Expired endpoints are swept every second.
import { parseAddress } from "../config/units.js";
import { MeshError } from "../errors.js";
import type { EndpointHealth, SidecarStatus, Store } from "./store/store.js";

export const DEFAULT_TTL_SECONDS = 15;
/** A sidecar not heard from for this long is reported stale (three missed 5 s heartbeats). */
export const STALE_AFTER_MS = 15_000;
const LABEL_KEY = /^[A-Za-z0-9_./-]{1,63}$/;

export interface StatusRow {
  instance: string;
  service: string;
  address?: string;
  ackedVersion?: number;
  lastSeen: string;
  ageSeconds: number;
  connected: boolean;
  stale: boolean;
  lastNack?: SidecarStatus["lastNack"];
  subscribedTo?: string;
}

export class Registry {
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly store: Store) {
    this.sweep = setInterval(() => void store.expireEndpoints(Date.now()).catch(() => {}), 1_000).unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private async update(instance: string, service: string, patch: Partial<SidecarStatus>): Promise<void> {
    const prev = (await this.store.sidecars()).find((s) => s.instance === instance);
    await this.store.putSidecar({ ...prev, instance, service, ...patch, lastSeen: Date.now() });
  }

  seen(s: { instance: string; service: string; subscribedTo?: string }): Promise<void> {
    return this.update(s.instance, s.service, s.subscribedTo ? { subscribedTo: s.subscribedTo } : {});
  }

  async ack(a: { service: string; instance: string; version: number; ok: boolean; hash?: string; error?: string }): Promise<void> {
    if (a.ok) await this.update(a.instance, a.service, { ackedVersion: a.version, ...(a.hash ? { ackedHash: a.hash } : {}) });
    else await this.update(a.instance, a.service, { lastNack: { version: a.version, reason: a.error ?? "rejected", time: new Date().toISOString() } });
  }

  async heartbeat(h: { service: string; instance: string; ttlSeconds?: number | undefined; endpoint?: { address?: string; labels?: Record<string, string>; health?: string } | undefined; replica: string }): Promise<void> {
    const ttl = h.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isFinite(ttl) || ttl < 1 || ttl > 600) throw new MeshError("BAD_REQUEST", '"ttlSeconds" must be between 1 and 600.');
    let address: string | undefined;
    if (h.endpoint) {
      const e = h.endpoint;
      try {
        address = parseAddress(String(e.address ?? "")).key;
      } catch (err) {
        throw new MeshError("BAD_REQUEST", `endpoint.address: ${(err as Error).message}`);
      }
      const labels = e.labels ?? {};
      if (typeof labels !== "object" || Object.keys(labels).length > 32 || Object.entries(labels).some(([k, v]) => !LABEL_KEY.test(k) || typeof v !== "string" || v.length > 253))
        throw new MeshError("BAD_REQUEST", "endpoint.labels must be at most 32 string labels with keys like version or app.kubernetes.io/name.");
      const health = (e.health ?? "healthy") as EndpointHealth;
      if (!["healthy", "draining", "unhealthy"].includes(health)) throw new MeshError("BAD_REQUEST", 'endpoint.health must be "healthy", "draining" or "unhealthy".');
      await this.store.putEndpoint({ service: h.service, instance: h.instance, address, labels, health, expiresAt: Date.now() + ttl * 1000 });
    }
    await this.update(h.instance, h.service, { ...(address ? { address } : {}) });
  }

  deregister(service: string, instance: string): Promise<boolean> {
    return this.store.removeEndpoint(service, instance);
  }

  async status(connectedHere: Set<string>): Promise<{ headVersion: number; sidecars: StatusRow[] }> {
    const [head, all] = await Promise.all([this.store.head(), this.store.sidecars()]);
    const now = Date.now();
    const headVersion = head?.version ?? 0;
    const sidecars = all
      .map((s): StatusRow => {
        const age = now - s.lastSeen;
        const connected = connectedHere.has(s.instance) || age < STALE_AFTER_MS;
        return {
          instance: s.instance,
          service: s.service,
          ...(s.address ? { address: s.address } : {}),
          ...(s.ackedVersion !== undefined ? { ackedVersion: s.ackedVersion } : {}),
          lastSeen: new Date(s.lastSeen).toISOString(),
          ageSeconds: Math.round(age / 100) / 10,
          connected,
          stale: !connectedHere.has(s.instance) && age >= STALE_AFTER_MS ? true : (s.ackedVersion ?? 0) < headVersion,
          ...(s.lastNack ? { lastNack: s.lastNack } : {}),
          ...(s.subscribedTo ? { subscribedTo: s.subscribedTo } : {}),
        };
      })
      .sort((a, b) => (a.service + a.instance < b.service + b.instance ? -1 : 1));
    return { headVersion, sidecars };
  }
}
