// Traffic resources -> the traffic part of the Plan, compiled once per config version: rate limits, faults,
// concurrency limits and backend protection, each with a selector (direction + targetRefs) resolved here.
import { createHash } from "node:crypto";
import type { AnyResource, ResourceOf } from "../schema.js";
import type { ConfigIssue } from "../load.js";
import { durationOr, parseAddress, type Address } from "../units.js";
import { stableStringify } from "../compile.js";
import type { RateLimitSpec } from "../kinds/rate-limit.js";

export type Direction = "inbound" | "outbound";

/** Does a policy apply to a request, given the route it took (route name, rule id) and its backend? */
export type Selector = (routeName: string | undefined, ruleId: string | undefined, backend: string | undefined) => boolean;

export type KeyPart = { type: "ClientIdentity" | "Header" | "ClientIP" | "Route"; name: string };

export interface RateLimitPlan {
  name: string;
  /** Hash of the policy: limiter state survives a reload while it is unchanged. */
  hash: string;
  direction: Direction;
  select: Selector;
  targets: string[];
  algorithm: "TokenBucket" | "LeakyBucket" | "SlidingWindow";
  requests: number;
  perMs: number;
  burst: number;
  key: KeyPart[];
  overrides: ReadonlyMap<string, { requests: number; perMs: number }>;
  store: "Local" | "Redis";
  maxKeys: number;
  redis: { address: Address; keyPrefix: string; commandTimeoutMs: number; onFailure: "FailOpen" | "FailClosed" | "LocalFallback"; sidecars: number } | undefined;
}

export interface HeaderTest {
  (header: (name: string) => string | undefined): boolean;
}

export interface FaultPlan {
  name: string;
  direction: Direction;
  select: Selector;
  targets: string[];
  match: HeaderTest | undefined;
  matchText: string | undefined;
  delay: { minMs: number; maxMs: number; fraction: number } | undefined;
  abort: { status: number; fraction: number } | undefined;
}

export interface BackendPolicyPlan {
  name: string;
  hash: string;
  pool: { maxConnections: number; maxPendingRequests: number; maxRequests: number } | undefined;
  outlier: { consecutive5xx: number; consecutiveGatewayErrors: number; baseEjectionMs: number; maxEjectionMs: number; maxEjectionPercent: number } | undefined;
  breaker: { consecutiveFailures: number; openMs: number; maxOpenMs: number; halfOpenRequests: number } | undefined;
}

export interface ConcurrencyPlan {
  name: string;
  hash: string;
  direction: Direction;
  select: Selector;
  targets: string[];
  maxConcurrent: number | undefined;
  adaptive: { type: "LatencyGradient" | "EventLoopLag"; maxLagMs: number; minLimit: number; maxLimit: number } | undefined;
  retryAfterSeconds: number;
  healthPaths: ReadonlySet<string>;
}

export interface TrafficPlan {
  rateLimits: readonly RateLimitPlan[];
  faults: readonly FaultPlan[];
  concurrency: readonly ConcurrencyPlan[];
  /** Backend name -> its protection policy. */
  backendPolicies: ReadonlyMap<string, BackendPolicyPlan>;
}

const of = <K extends AnyResource["kind"]>(resources: readonly AnyResource[], kind: K) =>
  resources.filter((r): r is Extract<AnyResource, { kind: K }> => r.kind === kind);

const hashOf = (v: unknown) => createHash("sha256").update(stableStringify(v)).digest("hex").slice(0, 16);

export const DEFAULT_HEALTH_PATHS = ["/healthz", "/readyz", "/livez", "/health", "/ready", "/ping"];

export function compileTraffic(resources: readonly AnyResource[], fail: (path: string, message: string) => void): TrafficPlan {
  const routes = of(resources, "Route");
  const backendNames = new Set(of(resources, "Backend").map((b) => b.metadata.name));
  const routeRules = new Map<string, Set<string>>();
  for (const r of routes) routeRules.set(r.metadata.name, new Set(r.spec.rules.flatMap((rule, i) => [String(i), ...(rule.name ? [rule.name] : [])])));
  checkRoutes(routes, backendNames, fail);

  const selector = (where: string, refs: { kind: string; name: string; sectionName?: string }[] | undefined): { select: Selector; targets: string[] } => {
    if (!refs?.length) return { select: () => true, targets: ["*"] };
    const routeNames = new Set<string>();
    const ruleIds = new Set<string>();
    const backends = new Set<string>();
    refs.forEach((ref, i) => {
      if (ref.kind === "Backend") {
        if (!backendNames.has(ref.name)) fail(`${where}.targetRefs[${i}].name`, `no Backend named "${ref.name}"`);
        backends.add(ref.name);
        return;
      }
      const rules = routeRules.get(ref.name);
      if (!rules) fail(`${where}.targetRefs[${i}].name`, `no Route named "${ref.name}" (known: ${[...routeRules.keys()].join(", ") || "none"})`);
      else if (ref.sectionName && !rules.has(ref.sectionName)) fail(`${where}.targetRefs[${i}].sectionName`, `Route "${ref.name}" has no rule "${ref.sectionName}"`);
      if (ref.sectionName) ruleIds.add(`${ref.name}/${ref.sectionName}`);
      else routeNames.add(ref.name);
    });
    return {
      select: (routeName, ruleId, backend) =>
        (routeName !== undefined && routeNames.has(routeName)) || (ruleId !== undefined && ruleIds.has(ruleId)) || (backend !== undefined && backends.has(backend)),
      targets: refs.map((r) => `${r.kind}/${r.name}${r.sectionName ? `/${r.sectionName}` : ""}`),
    };
  };

  const rateLimits = of(resources, "RateLimitPolicy").map((r) => compileRateLimit(r, selector, fail));
  const faults = of(resources, "FaultPolicy").map((r) => compileFault(r, selector, fail));
  const concurrency = of(resources, "ConcurrencyPolicy").map((r) => compileConcurrency(r, selector, fail));
  const backendPolicies = new Map<string, BackendPolicyPlan>();
  for (const r of of(resources, "BackendPolicy")) {
    const plan = compileBackendPolicy(r);
    r.spec.targetRefs.forEach((ref, i) => {
      const where = `BackendPolicy/${r.metadata.name}.spec.targetRefs[${i}].name`;
      if (!backendNames.has(ref.name)) fail(where, `no Backend named "${ref.name}"`);
      else if (backendPolicies.has(ref.name)) fail(where, `Backend "${ref.name}" already has BackendPolicy "${backendPolicies.get(ref.name)!.name}"`);
      backendPolicies.set(ref.name, plan);
    });
  }
  return { rateLimits, faults, concurrency, backendPolicies };
}

type SelectorFn = (where: string, refs: { kind: string; name: string; sectionName?: string }[] | undefined) => { select: Selector; targets: string[] };

function compileRateLimit(r: ResourceOf<"RateLimitPolicy">, selector: SelectorFn, fail: (p: string, m: string) => void): RateLimitPlan {
  const s: RateLimitSpec = r.spec;
  const where = `RateLimitPolicy/${r.metadata.name}.spec`;
  const perMs = durationOr(s.limit.per, 1000);
  if (perMs <= 0) fail(`${where}.limit.per`, "must be longer than 0");
  const algorithm = s.algorithm ?? "TokenBucket";
  const store = s.store ?? (s.redis ? "Redis" : "Local");
  if (store === "Redis" && !s.redis) fail(`${where}.redis`, "store: Redis needs redis.address");
  const overrides = new Map<string, { requests: number; perMs: number }>();
  for (const o of s.overrides ?? []) overrides.set(o.value, { requests: o.requests, perMs: durationOr(o.per, perMs) });
  let redis: RateLimitPlan["redis"];
  if (store === "Redis" && s.redis) {
    try {
      redis = {
        address: parseAddress(s.redis.address),
        keyPrefix: s.redis.keyPrefix ?? "outrigger:rl:",
        commandTimeoutMs: durationOr(s.redis.commandTimeout, 25),
        onFailure: s.redis.onFailure ?? "LocalFallback",
        sidecars: s.redis.sidecars ?? 1,
      };
    } catch (err) {
      fail(`${where}.redis.address`, (err as Error).message);
    }
  }
  const burst = s.burst ?? (algorithm === "LeakyBucket" ? Math.max(1, Math.floor(s.limit.requests / 100)) : s.limit.requests);
  return {
    name: r.metadata.name,
    hash: hashOf({ name: r.metadata.name, spec: s }),
    direction: s.direction ?? "inbound",
    ...selector(where, s.targetRefs),
    algorithm,
    requests: s.limit.requests,
    perMs,
    burst,
    key: (s.key ?? []).map((k) => ({ type: k.type, name: (k.name ?? (k.type === "ClientIdentity" ? "x-client-id" : "")).toLowerCase() })),
    overrides,
    store,
    maxKeys: s.maxKeys ?? 10_000,
    redis,
  };
}

function compileFault(r: ResourceOf<"FaultPolicy">, selector: SelectorFn, fail: (p: string, m: string) => void): FaultPlan {
  const s = r.spec;
  const where = `FaultPolicy/${r.metadata.name}.spec`;
  let delay: FaultPlan["delay"];
  if (s.delay) {
    const fixed = s.delay.fixed ? durationOr(s.delay.fixed, 0) : undefined;
    const min = fixed ?? durationOr(s.delay.min, NaN);
    const max = fixed ?? durationOr(s.delay.max, NaN);
    if (Number.isNaN(min) || Number.isNaN(max)) fail(`${where}.delay`, "give either fixed, or min and max");
    else if (min > max) fail(`${where}.delay.min`, `must not exceed max (${s.delay.min} > ${s.delay.max})`);
    delay = { minMs: min, maxMs: max, fraction: (s.delay.percent ?? 100) / 100 };
  }
  if (!s.delay && !s.abort) fail(where, "a FaultPolicy needs a delay, an abort, or both");
  const match = s.match ? headerTest(s.match.headers, `${where}.match.headers`, fail) : undefined;
  return {
    name: r.metadata.name,
    direction: s.direction ?? "inbound",
    ...selector(where, s.targetRefs),
    match,
    matchText: s.match?.headers.map((h) => `${h.name}${h.type === "Present" || h.value === undefined ? " present" : h.type === "RegularExpression" ? ` ~ /${h.value}/` : `=${h.value}`}`).join(" and "),
    delay,
    abort: s.abort ? { status: s.abort.status, fraction: (s.abort.percent ?? 100) / 100 } : undefined,
  };
}

export function headerTest(conds: { type?: string; name: string; value?: string }[], where: string, fail: (p: string, m: string) => void): HeaderTest {
  const tests = conds.map((c, i) => {
    const name = c.name.toLowerCase();
    const type = c.type ?? (c.value === undefined ? "Present" : "Exact");
    if (type === "Present") return (h: (n: string) => string | undefined) => h(name) !== undefined;
    if (type === "RegularExpression") {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${c.value ?? ""})$`);
      } catch (err) {
        fail(`${where}[${i}].value`, `invalid regular expression: ${(err as Error).message}`);
        re = /$^/;
      }
      return (h: (n: string) => string | undefined) => {
        const v = h(name);
        return v !== undefined && re.test(v);
      };
    }
    return (h: (n: string) => string | undefined) => h(name) === c.value;
  });
  return (h) => tests.every((t) => t(h));
}

function compileConcurrency(r: ResourceOf<"ConcurrencyPolicy">, selector: SelectorFn, fail: (p: string, m: string) => void): ConcurrencyPlan {
  const s = r.spec;
  const where = `ConcurrencyPolicy/${r.metadata.name}.spec`;
  if (!s.maxConcurrent && !s.adaptive) fail(where, "give maxConcurrent, adaptive, or both");
  const a = s.adaptive;
  return {
    name: r.metadata.name,
    hash: hashOf({ name: r.metadata.name, spec: s }),
    direction: s.direction ?? "inbound",
    ...selector(where, s.targetRefs),
    maxConcurrent: s.maxConcurrent,
    adaptive: a ? { type: a.type, maxLagMs: durationOr(a.maxEventLoopLag, 100), minLimit: a.minLimit ?? 4, maxLimit: a.maxLimit ?? s.maxConcurrent ?? 1000 } : undefined,
    retryAfterSeconds: Math.max(1, Math.ceil(durationOr(s.retryAfter, 1000) / 1000)),
    healthPaths: new Set(s.healthPaths ?? DEFAULT_HEALTH_PATHS),
  };
}

function compileBackendPolicy(r: ResourceOf<"BackendPolicy">): BackendPolicyPlan {
  const s = r.spec;
  const p = s.connectionPool;
  const o = s.outlierDetection;
  const b = s.circuitBreaker;
  return {
    name: r.metadata.name,
    hash: hashOf({ name: r.metadata.name, spec: s }),
    pool: p
      ? {
          maxConnections: p.maxConnections ?? 1024,
          maxPendingRequests: p.maxPendingRequests ?? 1024,
          maxRequests: p.maxRequests ?? (p.maxConnections ?? 1024) + (p.maxPendingRequests ?? 1024),
        }
      : undefined,
    outlier: o
      ? {
          consecutive5xx: o.consecutive5xx ?? 5,
          consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? o.consecutive5xx ?? 5,
          baseEjectionMs: durationOr(o.baseEjectionTime, 30_000),
          maxEjectionMs: durationOr(o.maxEjectionTime, 300_000),
          maxEjectionPercent: o.maxEjectionPercent ?? 10,
        }
      : undefined,
    breaker: b ? { consecutiveFailures: b.consecutiveFailures, openMs: durationOr(b.openTime, 5_000), maxOpenMs: durationOr(b.maxOpenTime, 60_000), halfOpenRequests: b.halfOpenRequests ?? 1 } : undefined,
  };
}

/** Route checks the schema cannot express: regexes compile, mirror backends exist, header modifiers are sane. */
function checkRoutes(routes: ResourceOf<"Route">[], backendNames: ReadonlySet<string>, fail: (p: string, m: string) => void): void {
  const re = (where: string, v: string | undefined) => {
    try {
      new RegExp(`^(?:${v ?? ""})$`);
    } catch (err) {
      fail(where, `invalid regular expression: ${(err as Error).message}`);
    }
  };
  for (const r of routes)
    r.spec.rules.forEach((rule, i) => {
      const at = `Route/${r.metadata.name}.spec.rules[${i}]`;
      (rule.matches ?? []).forEach((m, j) => {
        if (m.path?.type === "RegularExpression") re(`${at}.matches[${j}].path.value`, m.path.value);
        if (m.path && m.path.type !== "RegularExpression" && !m.path.value.startsWith("/")) fail(`${at}.matches[${j}].path.value`, `must start with "/" (got "${m.path.value}")`);
        (m.headers ?? []).forEach((h, k) => h.type === "RegularExpression" && re(`${at}.matches[${j}].headers[${k}].value`, h.value));
        (m.queryParams ?? []).forEach((h, k) => h.type === "RegularExpression" && re(`${at}.matches[${j}].queryParams[${k}].value`, h.value));
      });
      (rule.filters ?? []).forEach((f, j) => {
        const field = f.type.charAt(0).toLowerCase() + f.type.slice(1);
        if (!(f as Record<string, unknown>)[field === "uRLRewrite" ? "urlRewrite" : field]) fail(`${at}.filters[${j}]`, `type ${f.type} needs its "${field === "uRLRewrite" ? "urlRewrite" : field}" settings`);
        if (f.type === "RequestMirror" && f.requestMirror && !backendNames.has(f.requestMirror.backendRef.name))
          fail(`${at}.filters[${j}].requestMirror.backendRef.name`, `no Backend named "${f.requestMirror.backendRef.name}"`);
      });
      if (rule.sessionAffinity && !rule.sessionAffinity.header && !rule.sessionAffinity.cookie) fail(`${at}.sessionAffinity`, "give a header or a cookie to hash");
    });
}

export type { ConfigIssue };
