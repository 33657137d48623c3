// One RateLimitPolicy at run time: the limit for a key (overrides first), a local store or Redis, and what
// happens when Redis fails (FailOpen, FailClosed, or LocalFallback with the limit divided among the sidecars).
// Lives in the traffic feature across reloads while the policy's hash is unchanged.
import type { Redis } from "ioredis";
import type { RateLimitPlan } from "../../../config/compile/traffic.js";
import type { Decision, Limit } from "./algorithms.js";
import { LocalStore } from "./local.js";
import { redisTake } from "./redis.js";

export type Verdict = Decision & { limit: Limit; source: "local" | "redis" | "fail-open" | "fail-closed" | "fallback" };

export interface LimiterEvents {
  onEvict(policy: string): void;
  /** Redis failed (down: true) or recovered (down: false); called on state changes only. */
  onRedisState(policy: string, down: boolean, err?: unknown): void;
  onRedisError(policy: string): void;
}

export class Limiter {
  private readonly local: LocalStore;
  private fallback: LocalStore | undefined;
  private redisDown = false;
  private readonly base: Limit;

  constructor(readonly plan: RateLimitPlan, private readonly events: LimiterEvents, private readonly redis?: Redis) {
    this.local = new LocalStore(plan.algorithm, plan.maxKeys, () => events.onEvict(plan.name));
    this.base = { requests: plan.requests, perMs: plan.perMs, burst: plan.burst };
  }

  limitFor(key: string): Limit {
    const o = this.plan.overrides.get(key);
    if (!o) return this.base;
    const scale = o.requests / this.plan.requests;
    return { requests: o.requests, perMs: o.perMs, burst: Math.max(1, Math.round(this.plan.burst * scale)) };
  }

  /** Synchronous when local (the common case); a promise only when Redis is involved. */
  take(key: string, now = Date.now()): Verdict | Promise<Verdict> {
    const limit = this.limitFor(key);
    if (limit.requests === 0) return { allowed: false, remaining: 0, resetMs: limit.perMs, retryAfterMs: limit.perMs, delayMs: 0, limit, source: "local" };
    if (!this.redis || !this.plan.redis) {
      // Decorate the fresh decision in place: no spread on the hot path.
      const v = this.local.take(key, limit, now) as Verdict;
      v.limit = limit;
      v.source = "local";
      return v;
    }
    return this.takeShared(key, limit);
  }

  private async takeShared(key: string, limit: Limit): Promise<Verdict> {
    const r = this.plan.redis!;
    try {
      const d = await redisTake(this.redis!, this.plan.algorithm, `${r.keyPrefix}${this.plan.name}:${key}`, limit);
      if (this.redisDown) {
        this.redisDown = false;
        this.events.onRedisState(this.plan.name, false);
      }
      return { ...d, limit, source: "redis" };
    } catch (err) {
      this.events.onRedisError(this.plan.name);
      if (!this.redisDown) {
        this.redisDown = true;
        this.events.onRedisState(this.plan.name, true, err);
      }
      if (r.onFailure === "FailOpen") return { allowed: true, remaining: limit.requests, resetMs: 0, retryAfterMs: 0, delayMs: 0, limit, source: "fail-open" };
      if (r.onFailure === "FailClosed") return { allowed: false, remaining: 0, resetMs: 1000, retryAfterMs: 1000, delayMs: 0, limit, source: "fail-closed" };
      // LocalFallback: this sidecar's share of the shared limit.
      const share: Limit = { requests: Math.max(1, Math.floor(limit.requests / r.sidecars)), perMs: limit.perMs, burst: Math.max(1, Math.floor(limit.burst / r.sidecars)) };
      this.fallback ??= new LocalStore(this.plan.algorithm, this.plan.maxKeys, () => this.events.onEvict(this.plan.name));
      return { ...this.fallback.take(key, share, Date.now()), limit: share, source: "fallback" };
    }
  }

  get redisUp(): boolean {
    return !this.redisDown;
  }
}
