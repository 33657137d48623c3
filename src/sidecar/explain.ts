// "Which route and backend would this request take, and what would apply to it?" answered from a Plan alone:
// the same route lookup and selectors the chains use, without sending anything. Used by `outrigger explain`
// and the app envelope's `kind: "control"` handler.
import type { Plan } from "../config/compile.js";
import type { CompiledRule } from "../config/compile/routes.js";
import { MeshError } from "../errors.js";
import type { Exchange } from "./chain.js";
import { findCandidate } from "./policies/route.js";
import { affinityKey, pickRef, stickyRoll } from "./policies/split.js";
import { limiterKey } from "./policies/rate-limit/index.js";
import { headerOf } from "./policies/fault.js";

export interface ExplainInput {
  method: string;
  /** An absolute URL (http://host/path?query) or an origin-form path with a Host header. */
  url: string;
  headers?: Record<string, string>;
  direction?: "outbound" | "inbound";
  peer?: { address: string; identity?: string };
}

export interface Explanation {
  direction: "outbound" | "inbound";
  request: { method: string; host: string; path: string };
  route: { id: string; route: string; matchedBy: string; default: boolean } | null;
  error?: { code: string; status: number; message: string };
  backends: { backend: string; subset?: string; weight: number; percent: number; chosen?: boolean }[];
  sticky?: { by: string; key: string | null; note: string };
  filters: string[];
  timeouts: { request?: string; backendRequest?: string };
  retry: { attempts: number; on: string[]; budget: string; backoff: string } | null;
  mirror?: string;
  rateLimits: { policy: string; algorithm: string; limit: string; key: string; store: string; onFailure?: string }[];
  faults: { policy: string; applies: boolean; delay?: string; abort?: string; why: string }[];
  concurrency: { policy: string; limit: string; healthCheckExempt: boolean }[];
  circuit?: { policy: string; pool?: string; outlierDetection?: string; breaker?: string };
  why: string[];
}

const ms = (n: number | undefined) => (n === undefined ? undefined : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

export function explainRequest(plan: Plan, input: ExplainInput): Explanation {
  const direction = input.direction ?? "outbound";
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  let path = input.url;
  let authority = headers.host ?? "";
  const abs = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(input.url);
  if (abs) {
    authority = abs[1]!;
    path = abs[2] || "/";
  }
  if (!path.startsWith("/")) path = `/${path}`;
  headers.host = authority;
  const colon = authority.lastIndexOf(":");
  const host = (colon > 0 && authority.indexOf("]") < colon ? authority.slice(0, colon) : authority).toLowerCase();
  const ex = {
    direction,
    method: input.method.toUpperCase(),
    host,
    authority,
    path,
    headers,
    body: null,
    peer: { address: input.peer?.address ?? "127.0.0.1", port: 0, ...(input.peer?.identity ? { identity: input.peer.identity } : {}) },
    signal: new AbortController().signal,
    requestId: "explain",
    start: 0n,
    notes: {},
    onEnd: () => {},
  } as Exchange;
  const out: Explanation = {
    direction,
    request: { method: ex.method, host, path },
    route: null,
    backends: [],
    filters: [],
    timeouts: {},
    retry: null,
    rateLimits: [],
    faults: [],
    concurrency: [],
    why: [],
  };
  const table = direction === "inbound" ? plan.inbound : plan.outbound;
  const { candidates, match } = findCandidate(table, ex);
  let rule: CompiledRule | undefined;
  if (match) {
    rule = match.rule;
    out.route = { id: rule.id, route: rule.routeName, matchedBy: match.describe, default: false };
    const all = table.byHost.get(host) ?? table.byHost.get("*") ?? [];
    const rank = all.indexOf(match);
    out.why.push(`host "${host}" has ${all.length} match candidate(s) in precedence order; #${rank + 1} (rule ${rule.id}) is the first that matches: ${match.describe}`);
    ex.notes.route = rule.id;
    ex.notes.ruleRef = rule;
  } else if (direction === "inbound") {
    out.route = { id: "inbound/default", route: "inbound", matchedBy: "no inbound rule matched", default: true };
    ex.notes.route = "inbound/default";
    out.why.push("no inbound Route rule matches; the request goes to the app with no rule filters");
  } else if (candidates) {
    const e = new MeshError("NO_ROUTE", `host "${host}" has routes, but none matches ${ex.method} ${path.split("?")[0]}.`);
    out.error = { code: e.code, status: e.status, message: e.message };
    out.why.push(`host "${host}" has ${candidates.length} match candidate(s), none matches`);
    return out;
  } else if (!plan.backends.has(host)) {
    const e = new MeshError("UNKNOWN_SERVICE", `No Backend or Route for host "${host}".`);
    out.error = { code: e.code, status: e.status, message: e.message };
    out.why.push(`no Route has host "${host}" and no Backend is named "${host}"`);
    return out;
  } else {
    out.route = { id: `${host}/default`, route: host, matchedBy: `no Route for "${host}": straight to Backend "${host}"`, default: true };
    ex.notes.route = `${host}/default`;
    out.why.push(`no Route has host "${host}"; the Backend of the same name takes it`);
  }

  if (direction === "inbound") {
    out.backends = [{ backend: `${plan.sidecar.service} (local app ${plan.sidecar.app.key})`, weight: 1, percent: 100, chosen: true }];
    ex.target = { backend: plan.sidecar.service, app: true };
  } else if (rule && rule.refs.length) {
    const key = affinityKey(rule, headers);
    const chosen = key !== undefined ? pickRef(rule, stickyRoll(key)) : undefined;
    out.backends = rule.refs.map((r) => ({
      backend: r.backend,
      ...(r.subset ? { subset: r.subset } : {}),
      weight: r.weight,
      percent: rule!.totalWeight ? Math.round((r.weight / rule!.totalWeight) * 10000) / 100 : 0,
      ...(chosen ? { chosen: chosen === r } : {}),
    }));
    if (rule.affinity) {
      const by = rule.affinity.header ? `header ${rule.affinity.header}` : `cookie ${rule.affinity.cookie}`;
      out.sticky = { by, key: key ?? null, note: key !== undefined ? `the hash of "${key}" always picks ${chosen!.backend}${chosen!.subset ? `/${chosen!.subset}` : ""} while weights are unchanged` : `no ${by} on this request: weighted random` };
    }
    ex.target = { backend: (chosen ?? rule.refs[0]!).backend, ...((chosen ?? rule.refs[0]!).subset ? { subset: (chosen ?? rule.refs[0]!).subset } : {}) };
    if (rule.refs.length > 1 && !chosen) out.why.push(`weighted split over ${rule.refs.length} backendRefs (total weight ${rule.totalWeight})`);
  } else if (rule && !rule.refs.length && !rule.filters.direct && !rule.filters.redirect) {
    out.backends = [{ backend: host, weight: 1, percent: 100 }];
    ex.target = { backend: host };
  } else if (!rule) {
    out.backends = [{ backend: host, weight: 1, percent: 100 }];
    ex.target = { backend: host };
  }

  if (rule) {
    const f = rule.filters;
    if (f.direct) out.filters.push(`DirectResponse ${f.direct.status} (answered by the sidecar, nothing is forwarded)`);
    if (f.redirect) out.filters.push(`RequestRedirect ${f.redirect.statusCode} to ${f.redirect.scheme ?? "same scheme"}://${f.redirect.hostname ?? host}${f.redirect.port ? `:${f.redirect.port}` : ""}${f.redirect.path ?? " (same path)"}`);
    if (f.request) out.filters.push(`RequestHeaderModifier set [${f.request.set.map(([k, v]) => `${k}: ${v}`).join(", ")}] add [${f.request.add.map(([k, v]) => `${k}: ${v}`).join(", ")}] remove [${f.request.remove.join(", ")}]`);
    if (f.rewrite) out.filters.push(`URLRewrite${f.rewrite.hostname ? ` host ${f.rewrite.hostname}` : ""}${f.rewrite.replaceFullPath !== undefined ? ` path ${f.rewrite.replaceFullPath}` : ""}${f.rewrite.replacePrefixMatch !== undefined ? ` prefix ${match?.pathPrefix ?? "/"} -> ${f.rewrite.replacePrefixMatch}` : ""}`);
    if (f.response) out.filters.push(`ResponseHeaderModifier set [${f.response.set.map(([k, v]) => `${k}: ${v}`).join(", ")}] remove [${f.response.remove.join(", ")}]`);
    if (f.mirror) out.mirror = `${Math.round(f.mirror.fraction * 10000) / 100}% copied to ${f.mirror.backend}${f.mirror.subset ? `/${f.mirror.subset}` : ""} (at most ${f.mirror.maxConcurrent} in flight, bodies up to ${f.mirror.maxBodyBytes} bytes)`;
    out.timeouts = { ...(rule.requestTimeoutMs ? { request: ms(rule.requestTimeoutMs) } : {}), ...(rule.backendRequestTimeoutMs ? { backendRequest: ms(rule.backendRequestTimeoutMs) } : {}) };
    const r = rule.retry;
    if (r) {
      const on = [...(r.onConnectFailure ? ["connect-failure"] : []), ...(r.onReset ? ["reset"] : []), ...[...r.statuses].sort().map(String)];
      out.retry = { attempts: r.attempts, on: on.length > 8 ? [...on.slice(0, 2), "5xx"] : on, budget: `${r.budgetRatio * 100}% of requests + ${r.budgetMinPerSecond}/s`, backoff: `full jitter, base ${ms(r.baseMs)}, max ${ms(r.maxMs)}` };
    }
  }
  if (!out.timeouts.request) out.timeouts.request = `${ms(plan.sidecar.limits.requestTimeoutMs)} (sidecar limit)`;

  const routeName = rule?.routeName;
  const ruleId = ex.notes.route as string;
  const backend = ex.target?.app ? undefined : ex.target?.backend;
  for (const p of plan.traffic.rateLimits) {
    if (p.direction !== direction || !p.select(routeName, ruleId, backend)) continue;
    const key = limiterKey(p.key, ex);
    const o = p.overrides.get(key);
    out.rateLimits.push({
      policy: p.name,
      algorithm: p.algorithm,
      limit: `${o?.requests ?? p.requests} per ${ms(o?.perMs ?? p.perMs)}${o ? " (override)" : ""}, burst ${o ? Math.max(1, Math.round((p.burst * o.requests) / p.requests)) : p.burst}`,
      key: p.key.length ? `${p.key.map((k) => (k.name ? `${k.type}(${k.name})` : k.type)).join("+")} = "${key}"` : "one shared bucket",
      store: p.store === "Redis" ? `Redis ${p.redis?.address.key}` : `local (LRU of ${p.maxKeys} keys)`,
      ...(p.redis ? { onFailure: p.redis.onFailure } : {}),
    });
  }
  for (const p of plan.traffic.faults) {
    if (p.direction !== direction || !p.select(routeName, ruleId, backend)) continue;
    const applies = !p.match || p.match(headerOf(ex));
    out.faults.push({
      policy: p.name,
      applies,
      ...(p.delay ? { delay: `${p.delay.minMs === p.delay.maxMs ? ms(p.delay.minMs) : `${ms(p.delay.minMs)}-${ms(p.delay.maxMs)}`} for ${p.delay.fraction * 100}%` } : {}),
      ...(p.abort ? { abort: `${p.abort.status} for ${p.abort.fraction * 100}%` } : {}),
      why: p.match ? (applies ? `the request has ${p.matchText}` : `only requests with ${p.matchText}`) : "every request on its targets",
    });
  }
  const q = path.indexOf("?");
  const bare = q < 0 ? path : path.slice(0, q);
  for (const p of plan.traffic.concurrency) {
    if (p.direction !== direction || !p.select(routeName, ruleId, backend)) continue;
    out.concurrency.push({ policy: p.name, limit: [p.maxConcurrent ? `max ${p.maxConcurrent} in flight` : "", p.adaptive ? `adaptive (${p.adaptive.type}, ${p.adaptive.minLimit}-${p.adaptive.maxLimit})` : ""].filter(Boolean).join(", "), healthCheckExempt: p.healthPaths.has(bare) });
  }
  const bp = backend ? plan.traffic.backendPolicies.get(backend) : undefined;
  if (bp && direction === "outbound") {
    out.circuit = {
      policy: bp.name,
      ...(bp.pool ? { pool: `${bp.pool.maxConnections} at once, ${bp.pool.maxPendingRequests} waiting, ${bp.pool.maxRequests} total; beyond: 503 BACKEND_OVERFLOW` } : {}),
      ...(bp.outlier ? { outlierDetection: `eject after ${bp.outlier.consecutive5xx} consecutive 5xx / ${bp.outlier.consecutiveGatewayErrors} gateway errors for ${ms(bp.outlier.baseEjectionMs)} (doubling, max ${ms(bp.outlier.maxEjectionMs)}), at most ${bp.outlier.maxEjectionPercent}% of endpoints` } : {}),
      ...(bp.breaker ? { breaker: `open after ${bp.breaker.consecutiveFailures} consecutive failures for ${ms(bp.breaker.openMs)} (growing to ${ms(bp.breaker.maxOpenMs)}), then ${bp.breaker.halfOpenRequests} half-open probe(s)` } : {}),
    };
  }
  return out;
}

/** Human-readable lines for the CLI's table output. */
export function renderExplanation(e: Explanation): string {
  const lines: string[] = [];
  lines.push(`${e.request.method} ${e.request.host}${e.request.path} (${e.direction})`);
  if (e.error) {
    lines.push(`  result:      ${e.error.status} ${e.error.code}: ${e.error.message}`);
  } else {
    lines.push(`  route:       ${e.route!.id}${e.route!.default ? " (default)" : ""}`);
    lines.push(`  matched by:  ${e.route!.matchedBy}`);
    for (const b of e.backends) lines.push(`  backend:     ${b.backend}${b.subset ? `/${b.subset}` : ""}  weight ${b.weight} (${b.percent}%)${b.chosen ? "  <- chosen" : ""}`);
    if (e.sticky) lines.push(`  sticky:      by ${e.sticky.by}: ${e.sticky.note}`);
    for (const f of e.filters) lines.push(`  filter:      ${f}`);
    if (e.mirror) lines.push(`  mirror:      ${e.mirror}`);
    lines.push(`  timeouts:    request ${e.timeouts.request ?? "-"}${e.timeouts.backendRequest ? `, per try ${e.timeouts.backendRequest}` : ""}`);
    if (e.retry) lines.push(`  retry:       ${e.retry.attempts} attempt(s) on ${e.retry.on.join(", ")}; budget ${e.retry.budget}; ${e.retry.backoff}`);
    for (const r of e.rateLimits) lines.push(`  rate limit:  ${r.policy}: ${r.algorithm} ${r.limit}; key ${r.key}; ${r.store}${r.onFailure ? ` (if down: ${r.onFailure})` : ""}`);
    for (const c of e.concurrency) lines.push(`  concurrency: ${c.policy}: ${c.limit}${c.healthCheckExempt ? " (health check: never shed)" : ""}`);
    for (const f of e.faults) lines.push(`  fault:       ${f.policy}: ${[f.delay && `delay ${f.delay}`, f.abort && `abort ${f.abort}`].filter(Boolean).join(", ")} — ${f.applies ? "APPLIES" : "does not apply"} (${f.why})`);
    if (e.circuit) for (const [k, v] of Object.entries(e.circuit)) if (k !== "policy") lines.push(`  circuit:     ${e.circuit.policy} ${k}: ${v}`);
  }
  for (const w of e.why) lines.push(`  why:         ${w}`);
  return lines.join("\n");
}

/**
 * The envelope's `kind: "control"` query, `{ method, url, headers?, direction? }` (url absolute, or a path with
 * a host header): the same answer as `outrigger explain`, or `{ error }` naming the bad field.
 */
export function explainQuery(plan: Plan, query: Record<string, unknown> | undefined): Explanation | { error: { code: "BAD_REQUEST"; message: string } } {
  const bad = (message: string) => ({ error: { code: "BAD_REQUEST" as const, message } });
  const q = query ?? {};
  if (typeof q.method !== "string" || !/^[A-Za-z]{1,16}$/.test(q.method)) return bad('query.method must be an HTTP method such as "GET"');
  if (typeof q.url !== "string" || q.url.length > 8192) return bad("query.url must be http://HOST/PATH, or /PATH with a host header");
  const headers: Record<string, string> = {};
  if (q.headers !== undefined) {
    if (!q.headers || typeof q.headers !== "object" || Array.isArray(q.headers)) return bad("query.headers must be an object of header names to strings");
    for (const [k, v] of Object.entries(q.headers as Record<string, unknown>)) {
      if (typeof v !== "string") return bad(`query.headers.${k} must be a string`);
      headers[k.toLowerCase()] = v;
    }
  }
  if (q.direction !== undefined && q.direction !== "outbound" && q.direction !== "inbound") return bad('query.direction must be "outbound" or "inbound"');
  if (!/^https?:\/\//i.test(q.url) && !headers.host) return bad("query.url has no host: give http://HOST/PATH or a host header");
  return explainRequest(plan, { method: q.method, url: q.url, headers, direction: (q.direction as "outbound" | "inbound" | undefined) ?? "outbound" });
}
