// Traffic-control feature: admission (concurrency/shedding, rate limits, faults, filters) and resilience
// (mirroring, timeouts, retries, circuit breaking) policies, each in its own module beside this one.
// Runtime state (limiters, Redis clients, retry budgets, breakers, concurrency counters) lives here, keyed by
// the hash of the policy that made it, so a reload keeps it exactly when that policy did not change.
import client from "prom-client";
import type { Redis } from "ioredis";
import type { Plan } from "../../config/compile.js";
import type { ConcurrencyPlan, RateLimitPlan } from "../../config/compile/traffic.js";
import type { CompiledRule } from "../../config/compile/routes.js";
import type { Direction, Policy } from "../chain.js";
import type { FeatureFactory } from "../feature.js";
import { filters } from "./filters.js";
import { fault } from "./fault.js";
import { rateLimit } from "./rate-limit/index.js";
import { Limiter } from "./rate-limit/limiter.js";
import { createRedisClient } from "./rate-limit/redis.js";
import { concurrency, ConcurrencyState, LoopLag } from "./concurrency.js";
import { timeout } from "./timeout.js";
import { retry } from "./retry.js";
import { RetryBudget } from "./retry-budget.js";
import { BackendGuard, circuit } from "./circuit.js";
import { mirror, Mirrors } from "./mirror.js";
import { stableStringify } from "../../config/compile.js";
import { registerEnvelopeHandler } from "../envelope.js";
import { explainQuery } from "../explain.js";

export const trafficFeature: FeatureFactory = (ctx) => {
  // The app asks "which route and backend would this request take, what would apply?" through the envelope.
  registerEnvelopeHandler("control", (env, c) => explainQuery(c.plan(), env.query));
  const reg = ctx.metrics.registry;
  const m = {
    decisions: new client.Counter({ name: "outrigger_ratelimit_decisions_total", help: "Rate-limit decisions by policy and result (allowed, limited) and source (local, redis, fallback, fail-open, fail-closed).", labelNames: ["policy", "result", "source"] as const, registers: [reg] }),
    storeErrors: new client.Counter({ name: "outrigger_ratelimit_store_errors_total", help: "Redis rate-limit calls that failed or timed out.", labelNames: ["policy"] as const, registers: [reg] }),
    evicted: new client.Counter({ name: "outrigger_ratelimit_keys_evicted_total", help: "Limiter keys dropped by the LRU bound.", labelNames: ["policy"] as const, registers: [reg] }),
    retries: new client.Counter({ name: "outrigger_retries_total", help: "Retries by route and reason.", labelNames: ["route", "reason"] as const, registers: [reg] }),
    budget: new client.Counter({ name: "outrigger_retry_budget_exhausted_total", help: "Retries refused because the route's retry budget was spent.", labelNames: ["route"] as const, registers: [reg] }),
    mirror: new client.Counter({ name: "outrigger_mirror_requests_total", help: "Mirrored copies by result (sent, failed, dropped_concurrency, dropped_body_size, no_endpoint).", labelNames: ["route", "backend", "result"] as const, registers: [reg] }),
    faults: new client.Counter({ name: "outrigger_faults_injected_total", help: "Injected faults by policy and type.", labelNames: ["direction", "policy", "type"] as const, registers: [reg] }),
  };
  const limiters = new Map<string, Limiter>();
  const redisClients = new Map<string, Redis>();
  const budgets = new Map<string, { spec: string; budget: RetryBudget }>();
  const guards = new Map<string, BackendGuard>();
  const conc = new Map<string, ConcurrencyState>();
  const lag = new LoopLag();
  const mirrors = new Mirrors(ctx.upstreams, m.mirror);
  new client.Gauge({
    name: "outrigger_circuit_open",
    help: "1 while a backend's circuit breaker is open or half-open.",
    labelNames: ["backend", "state"] as const,
    registers: [reg],
    collect() {
      this.reset();
      for (const [backend, g] of guards) if (g.plan.breaker) this.set({ backend, state: g.state }, g.state === "closed" ? 0 : 1);
    },
  });

  const events = {
    onEvict: (policy: string) => m.evicted.inc({ policy }),
    onRedisError: (policy: string) => m.storeErrors.inc({ policy }),
    onRedisState: (policy: string, down: boolean, err?: unknown) => {
      if (down) ctx.logger.warn({ event: "ratelimit.redis.down", policy, err: (err as Error)?.message }, "rate-limit store unavailable; applying the policy's failure mode");
      else ctx.logger.info({ event: "ratelimit.redis.up", policy }, "rate-limit store available again");
    },
  };

  const redisFor = (p: RateLimitPlan): Redis | undefined => {
    if (!p.redis) return undefined;
    const key = `${p.redis.address.key}/${p.redis.commandTimeoutMs}`;
    let c = redisClients.get(key);
    if (!c) {
      c = createRedisClient(p.redis.address.host, p.redis.address.port, p.redis.commandTimeoutMs);
      // Connection errors surface through failed commands; the client's own event must not crash the process.
      c.on("error", () => {});
      redisClients.set(key, c);
    }
    return c;
  };

  const sync = (plan: Plan) => {
    const t = plan.traffic;
    const keepLimiters = new Set<string>();
    for (const p of t.rateLimits) {
      keepLimiters.add(p.hash);
      if (!limiters.has(p.hash)) limiters.set(p.hash, new Limiter(p, events, redisFor(p)));
    }
    for (const h of [...limiters.keys()]) if (!keepLimiters.has(h)) limiters.delete(h);
    const wantedRedis = new Set(t.rateLimits.filter((p) => p.redis).map((p) => `${p.redis!.address.key}/${p.redis!.commandTimeoutMs}`));
    for (const [k, c] of redisClients)
      if (!wantedRedis.has(k)) {
        redisClients.delete(k);
        c.disconnect();
      }
    const rules = [...plan.outbound.rules, ...plan.inbound.rules];
    const seenRules = new Set<string>();
    for (const r of rules) {
      if (!r.retry) continue;
      const key = `${r.id}`;
      seenRules.add(key);
      const spec = stableStringify(r.rule.retry);
      if (budgets.get(key)?.spec !== spec) budgets.set(key, { spec, budget: new RetryBudget(r.retry.budgetRatio, r.retry.budgetMinPerSecond) });
    }
    for (const k of [...budgets.keys()]) if (!seenRules.has(k)) budgets.delete(k);
    for (const [backend, p] of t.backendPolicies) if (guards.get(backend)?.plan.hash !== p.hash) guards.set(backend, new BackendGuard(p));
    for (const b of [...guards.keys()]) if (!t.backendPolicies.has(b)) guards.delete(b);
    const keepConc = new Set(t.concurrency.map((p) => p.hash));
    for (const p of t.concurrency) if (!conc.has(p.hash)) conc.set(p.hash, new ConcurrencyState(p, lag));
    for (const [h, s] of [...conc])
      if (!keepConc.has(h)) {
        s.close();
        conc.delete(h);
      }
  };

  // Labelled children cached: prom-client hashes label sets on every inc(), too slow for a per-request counter.
  const children = new Map<string, client.Counter.Internal>();
  const decision = (policy: string, allowed: boolean, source: string) => {
    const key = `${policy}\u0000${allowed ? 1 : 0}${source}`;
    let c = children.get(key);
    if (!c) {
      if (children.size > 10_000) children.clear();
      children.set(key, (c = m.decisions.labels({ policy, result: allowed ? "allowed" : "limited", source })));
    }
    return c;
  };
  const limiterOf = (p: RateLimitPlan) => limiters.get(p.hash) ?? limiters.set(p.hash, new Limiter(p, events, redisFor(p))).get(p.hash)!;
  const concOf = (p: ConcurrencyPlan) => conc.get(p.hash) ?? conc.set(p.hash, new ConcurrencyState(p, lag)).get(p.hash)!;
  const rulesOf = (plan: Plan, d: Direction): readonly CompiledRule[] => (d === "inbound" ? plan.inbound.rules : plan.outbound.rules);
  const budgetOf = (rule: CompiledRule) => {
    let b = budgets.get(rule.id);
    if (!b) budgets.set(rule.id, (b = { spec: stableStringify(rule.rule.retry), budget: new RetryBudget(rule.retry!.budgetRatio, rule.retry!.budgetMinPerSecond) }));
    return b.budget;
  };

  return {
    name: "traffic",
    onPlan: (plan) => sync(plan),
    // Policies are included only when the plan has something for them to do, so an unconfigured feature costs nothing.
    admit: (plan, d) => {
      const t = plan.traffic;
      const out: Policy[] = [];
      const cp = t.concurrency.filter((p) => p.direction === d);
      if (cp.length) out.push(concurrency(cp, concOf));
      const rl = t.rateLimits.filter((p) => p.direction === d);
      if (rl.length) out.push(rateLimit(rl, { limiter: limiterOf, onDecision: (p, v) => decision(p.name, v.allowed, v.source).inc() }));
      const fp = t.faults.filter((p) => p.direction === d);
      if (fp.length) out.push(fault(fp, m.faults));
      if (rulesOf(plan, d).some((r) => r.filters.direct || r.filters.redirect || r.filters.request || r.filters.response || r.filters.rewrite)) out.push(filters());
      return out;
    },
    resilience: (plan, d) => {
      const rules = rulesOf(plan, d);
      const out: Policy[] = [];
      if (rules.some((r) => r.filters.mirror)) out.push(mirror(mirrors));
      if (rules.some((r) => r.requestTimeoutMs || r.backendRequestTimeoutMs)) out.push(timeout());
      if (rules.some((r) => r.retry))
        out.push(
          retry({
            budget: budgetOf,
            onRetry: (rule, reason) => m.retries.inc({ route: rule.id, reason }),
            onBudgetExhausted: (rule) => m.budget.inc({ route: rule.id }),
          }),
        );
      if (d === "outbound" && plan.traffic.backendPolicies.size) out.push(circuit((b) => guards.get(b), ctx.upstreams));
      return out;
    },
    readiness: () => {
      const redis: Record<string, string> = {};
      for (const [k, c] of redisClients) redis[k.split("/")[0]!] = c.status;
      const detail: Record<string, unknown> = {};
      if (redisClients.size) detail.redis = redis;
      const open = [...guards].filter(([, g]) => g.state !== "closed").map(([b, g]) => `${b}:${g.state}`);
      if (open.length) detail.circuits = open;
      // Redis being down never makes the sidecar unready: each policy's failure mode handles it.
      return { ready: true, detail };
    },
    close: async () => {
      lag.stop();
      for (const s of conc.values()) s.close();
      await Promise.all([...redisClients.values()].map((c) => c.quit().catch(() => c.disconnect())));
      redisClients.clear();
    },
  };
};

export type { Limiter };
