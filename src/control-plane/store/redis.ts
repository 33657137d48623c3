// The shared store for several control-plane replicas (ioredis): versions appended by a compare-and-set
// script so two replicas never both write version N; changes announced on a pub/sub channel to every replica.
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { AuditEntry } from "../extension.js";
import { LIMITS, sameEndpoint, type ConfigVersion, type EndpointRecord, type SidecarStatus, type Store, type StoreEvent, type TokenRecord } from "./store.js";

const P = "outrigger:";
const K = { head: `${P}head`, version: (n: number) => `${P}version:${n}`, audit: `${P}audit`, tokens: `${P}tokens`, sidecars: `${P}sidecars`, endpoints: `${P}endpoints`, events: `${P}events` };

// KEYS: head, version:N, events channel. ARGV: N, version JSON, event JSON.
const APPEND = `
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
if head ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[3], ARGV[3])
return 1`;

export class RedisStore implements Store {
  readonly kind = "redis" as const;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly events = new EventEmitter();

  constructor(url: string) {
    // Commands fail fast while Redis is down instead of queueing without bound.
    const opts = { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 2_000, lazyConnect: true, retryStrategy: (n: number) => Math.min(50 * 2 ** n, 2_000) };
    this.redis = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    this.redis.on("error", () => {});
    this.sub.on("error", () => {});
  }

  async open(): Promise<void> {
    await this.redis.connect();
    await this.sub.connect();
    this.sub.on("message", (_channel: string, message: string) => {
      try {
        this.events.emit("event", JSON.parse(message) as StoreEvent);
      } catch {}
    });
    await this.sub.subscribe(K.events);
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async head(): Promise<ConfigVersion | undefined> {
    const n = Number((await this.redis.get(K.head)) ?? 0);
    return n ? this.version(n) : undefined;
  }

  async version(n: number): Promise<ConfigVersion | undefined> {
    if (!Number.isInteger(n) || n < 1) return undefined;
    const s = await this.redis.get(K.version(n));
    return s ? (JSON.parse(s) as ConfigVersion) : undefined;
  }

  async versions(limit: number): Promise<ConfigVersion[]> {
    const n = Number((await this.redis.get(K.head)) ?? 0);
    const ns = Array.from({ length: Math.min(limit, n) }, (_, i) => n - i);
    if (!ns.length) return [];
    const vals = await this.redis.mget(...ns.map(K.version));
    return vals.filter((s): s is string => !!s).map((s) => JSON.parse(s) as ConfigVersion);
  }

  async append(v: ConfigVersion): Promise<boolean> {
    const r = await this.redis.eval(APPEND, 3, K.head, K.version(v.version), K.events, String(v.version), JSON.stringify(v), JSON.stringify({ type: "version", version: v.version }));
    return r === 1;
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.redis.rpush(K.audit, JSON.stringify(e));
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    return (await this.redis.lrange(K.audit, -limit, -1)).map((s) => JSON.parse(s) as AuditEntry);
  }

  async putToken(t: TokenRecord): Promise<void> {
    await this.redis.hset(K.tokens, t.id, JSON.stringify(t));
  }

  async token(id: string): Promise<TokenRecord | undefined> {
    const s = await this.redis.hget(K.tokens, id);
    return s ? (JSON.parse(s) as TokenRecord) : undefined;
  }

  async tokens(): Promise<TokenRecord[]> {
    return Object.values(await this.redis.hgetall(K.tokens)).map((s) => JSON.parse(s) as TokenRecord);
  }

  async putSidecar(s: SidecarStatus): Promise<void> {
    if ((await this.redis.hlen(K.sidecars)) >= LIMITS.sidecars && !(await this.redis.hexists(K.sidecars, s.instance))) return;
    await this.redis.hset(K.sidecars, s.instance, JSON.stringify(s));
  }

  async sidecars(): Promise<SidecarStatus[]> {
    return Object.values(await this.redis.hgetall(K.sidecars)).map((s) => JSON.parse(s) as SidecarStatus);
  }

  async putEndpoint(e: EndpointRecord): Promise<boolean> {
    const key = `${e.service}/${e.instance}`;
    const prevText = await this.redis.hget(K.endpoints, key);
    if (!prevText && (await this.redis.hlen(K.endpoints)) >= LIMITS.endpoints) throw new Error(`registry is full (${LIMITS.endpoints} endpoints)`);
    await this.redis.hset(K.endpoints, key, JSON.stringify(e));
    const prev = prevText ? (JSON.parse(prevText) as EndpointRecord) : undefined;
    const changed = !sameEndpoint(prev && prev.expiresAt > Date.now() ? prev : undefined, e);
    if (changed) await this.publish({ type: "registry" });
    return changed;
  }

  async removeEndpoint(service: string, instance: string): Promise<boolean> {
    const removed = (await this.redis.hdel(K.endpoints, `${service}/${instance}`)) > 0;
    if (removed) await this.publish({ type: "registry" });
    return removed;
  }

  async endpoints(): Promise<EndpointRecord[]> {
    const now = Date.now();
    return Object.values(await this.redis.hgetall(K.endpoints))
      .map((s) => JSON.parse(s) as EndpointRecord)
      .filter((e) => e.expiresAt > now);
  }

  async expireEndpoints(now: number): Promise<boolean> {
    const all = await this.redis.hgetall(K.endpoints);
    const expired = Object.entries(all).filter(([, s]) => (JSON.parse(s) as EndpointRecord).expiresAt <= now).map(([k]) => k);
    if (!expired.length) return false;
    const n = await this.redis.hdel(K.endpoints, ...expired);
    if (n > 0) await this.publish({ type: "registry" });
    return n > 0;
  }

  onEvent(fn: (e: StoreEvent) => void): void {
    this.events.on("event", fn);
  }

  private async publish(e: StoreEvent) {
    await this.redis.publish(K.events, JSON.stringify(e));
  }
}
