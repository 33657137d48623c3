// Rate-limit policy (admit slot): for each RateLimitPolicy that selects the request, build its key (client
// identity, header, client IP, route, or a combination), ask its limiter, and answer 429 RATE_LIMITED with
// Retry-After and the IETF httpapi RateLimit / RateLimit-Policy fields when it is over. LeakyBucket delays
// an admitted request until its slot instead of refusing it.
import { setTimeout as sleep } from "node:timers/promises";
import type { KeyPart, RateLimitPlan } from "../../../config/compile/traffic.js";
import { MeshError } from "../../../errors.js";
import type { Exchange, Policy } from "../../chain.js";
import { selects } from "../fault.js";
import type { Limiter, Verdict } from "./limiter.js";

export function limiterKey(parts: readonly KeyPart[], ex: Exchange): string {
  if (parts.length === 0) return "*";
  let key = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    let v: string | string[] | undefined;
    if (p.type === "ClientIP") v = ex.peer.address;
    else if (p.type === "Route") v = ex.notes.route as string | undefined;
    else if (p.type === "ClientIdentity") v = ex.peer.identity ?? ex.headers[p.name];
    else v = ex.headers[p.name];
    const s = v === undefined ? "-" : Array.isArray(v) ? v[0]! : v;
    key = i === 0 ? s : `${key}|${s}`;
  }
  return key;
}

/** RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured-field form). */
export function rateLimitHeaders(name: string, v: Verdict): Record<string, string> {
  const w = Math.max(1, Math.round(v.limit.perMs / 1000));
  return {
    "ratelimit-policy": `"${name}";q=${v.limit.requests};w=${w}`,
    ratelimit: `"${name}";r=${Math.max(0, v.remaining)};t=${Math.max(0, Math.ceil(v.resetMs / 1000))}`,
  };
}

export interface RateLimitHooks {
  limiter(plan: RateLimitPlan): Limiter;
  onDecision(plan: RateLimitPlan, v: Verdict): void;
}

export const rateLimit = (policies: readonly RateLimitPlan[], hooks: RateLimitHooks): Policy => async (ex, next) => {
  for (const p of policies) {
    if (!selects(p, ex)) continue;
    const key = limiterKey(p.key, ex);
    const r = hooks.limiter(p).take(key);
    const v = r instanceof Promise ? await r : r;
    hooks.onDecision(p, v);
    if (!v.allowed) {
      ex.notes.rateLimited = p.name;
      const retryAfter = Math.max(1, Math.ceil(v.retryAfterMs / 1000));
      throw new MeshError("RATE_LIMITED", `RateLimitPolicy "${p.name}" allows ${v.limit.requests} per ${v.limit.perMs / 1000}s${key === "*" ? "" : ` for key "${key}"`}${v.source === "fail-closed" ? " (shared store unavailable; failing closed)" : ""}.`, {
        headers: { "retry-after": String(retryAfter), ...rateLimitHeaders(p.name, v) },
      });
    }
    if (v.delayMs >= 1) {
      ex.notes.rateLimitDelayMs = Math.round(v.delayMs);
      await sleep(v.delayMs, undefined, { signal: ex.signal });
    }
  }
  return next(ex);
};
