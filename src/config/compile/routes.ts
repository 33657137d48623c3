// Route resources -> a route table: per host, match candidates sorted by Gateway API precedence.
// Matchers (regexes, header lists) are compiled here once; the route policy only walks the sorted list.
import type { RouteResource } from "../kinds/route.js";
import type { Static } from "@sinclair/typebox";
import type { RouteRule, RouteSpec } from "../kinds/route.js";
import { durationOr } from "../units.js";
import { compileFilters, type CompiledFilters } from "./filters.js";
import { compileRetry, type RetryPlan } from "./retry.js";

export interface MatchInput {
  method: string;
  path: string; // path without query
  query: string; // raw query without '?', possibly ""
  header(name: string): string | undefined;
}

export interface WeightedRef {
  backend: string;
  subset: string | undefined;
  weight: number;
}

export interface CompiledRule {
  /** routeName/ruleName (or routeName/index): the `route` metric label and span attribute. */
  id: string;
  routeName: string;
  rule: RouteRule;
  refs: WeightedRef[];
  /** cumulative weights for O(log n) weighted pick */
  cumulative: number[];
  totalWeight: number;
  requestTimeoutMs: number | undefined;
  backendRequestTimeoutMs: number | undefined;
  filters: CompiledFilters;
  retry: RetryPlan | undefined;
  /** Sticky split: the header (lower case) or cookie whose hash picks the backendRef. */
  affinity: { header?: string; cookie?: string } | undefined;
}

export interface Candidate {
  rule: CompiledRule;
  test: (m: MatchInput) => boolean;
  /** Only set for path matches: how much of the path was matched (for prefix rewrites). */
  pathPrefix: string | undefined;
  rank: number[];
  /** The match as written, for `outrigger explain`. */
  describe: string;
  /** First path segment every path this candidate matches starts with; undefined when it can match any path. */
  segment: string | undefined;
}

export interface RouteTable {
  /** host (lower case, no port) -> candidates in precedence order; "*" holds wildcard-host routes. */
  readonly byHost: ReadonlyMap<string, Candidate[]>;
  /** host -> candidates narrowed by the request path's first segment, still in precedence order. */
  readonly index: ReadonlyMap<string, SegmentIndex>;
  readonly rules: readonly CompiledRule[];
}

/**
 * Exact and PathPrefix matches match whole segments, so a candidate whose path starts with /api can only match
 * paths whose first segment is "api". Each segment's list is the merge (in precedence order) of its own
 * candidates and those that can match any path (regex, no path, prefix "/"): lookup walks only what can match.
 */
export interface SegmentIndex {
  bySegment: ReadonlyMap<string, Candidate[]>;
  any: Candidate[];
}

/** The first path segment: "/api/v1?x" -> "api", "/" -> "". */
export function firstSegment(path: string): string {
  let end = path.length;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) {
      end = i;
      break;
    }
  }
  return path.slice(1, end);
}

type RouteRes = Static<typeof RouteResource>;

export function compileRoutes(routes: RouteRes[]): RouteTable {
  const byHost = new Map<string, Candidate[]>();
  const rules: CompiledRule[] = [];
  let order = 0;
  for (const r of routes) {
    const spec: RouteSpec = r.spec;
    spec.rules.forEach((rule, i) => {
      const compiled = compileRule(r.metadata.name, rule, i);
      rules.push(compiled);
      const matches = rule.matches?.length ? rule.matches : [{}];
      for (const m of matches) {
        const cand = compileMatch(compiled, m, order++);
        for (const h of spec.hosts) {
          const host = h.toLowerCase();
          byHost.set(host, [...(byHost.get(host) ?? []), cand]);
        }
      }
    });
  }
  const index = new Map<string, SegmentIndex>();
  for (const [host, list] of byHost) {
    list.sort(byRank);
    const any = list.filter((c) => c.segment === undefined);
    const segments = new Set(list.map((c) => c.segment).filter((s): s is string => s !== undefined));
    const bySegment = new Map<string, Candidate[]>();
    for (const seg of segments) bySegment.set(seg, list.filter((c) => c.segment === undefined || c.segment === seg));
    index.set(host, { bySegment, any });
  }
  return { byHost, index, rules };
}

function compileRule(routeName: string, rule: RouteRule, index: number): CompiledRule {
  const refs: WeightedRef[] = (rule.backendRefs ?? []).map((b) => ({ backend: b.name, subset: b.subset, weight: b.weight ?? 1 }));
  const cumulative: number[] = [];
  let total = 0;
  for (const r of refs) cumulative.push((total += r.weight));
  return {
    id: `${routeName}/${rule.name ?? index}`,
    routeName,
    rule,
    refs,
    cumulative,
    totalWeight: total,
    requestTimeoutMs: rule.timeouts?.request ? durationOr(rule.timeouts.request, 0) : undefined,
    backendRequestTimeoutMs: rule.timeouts?.backendRequest ? durationOr(rule.timeouts.backendRequest, 0) : undefined,
    filters: compileFilters(rule),
    retry: compileRetry(rule),
    affinity: rule.sessionAffinity?.header || rule.sessionAffinity?.cookie
      ? { ...(rule.sessionAffinity.header ? { header: rule.sessionAffinity.header.toLowerCase() } : {}), ...(rule.sessionAffinity.cookie ? { cookie: rule.sessionAffinity.cookie } : {}) }
      : undefined,
  };
}

type Match = NonNullable<RouteRule["matches"]>[number];

function compileMatch(rule: CompiledRule, m: Match, order: number): Candidate {
  const tests: ((x: MatchInput) => boolean)[] = [];
  let pathRank = 0;
  let pathLen = 0;
  let pathPrefix: string | undefined;
  if (m.path) {
    const { type = "PathPrefix", value } = m.path;
    if (type === "Exact") {
      tests.push((x) => x.path === value);
      pathRank = 3;
    } else if (type === "PathPrefix") {
      const prefix = value.length > 1 && value.endsWith("/") ? value.slice(0, -1) : value;
      pathPrefix = prefix;
      // Gateway API: prefix matches whole segments: /api matches /api and /api/x, not /apix.
      tests.push(prefix === "/" ? () => true : (x) => x.path === prefix || (x.path.startsWith(prefix) && x.path.charCodeAt(prefix.length) === 47));
      pathRank = 2;
    } else {
      const re = new RegExp(`^(?:${value})$`);
      tests.push((x) => re.test(x.path));
      pathRank = 1;
    }
    pathLen = value.length;
  }
  if (m.method) {
    const method = m.method;
    tests.push((x) => x.method === method);
  }
  for (const h of m.headers ?? []) tests.push(valueTest(h, (x, name) => x.header(name)));
  for (const q of m.queryParams ?? []) tests.push(valueTest(q, (x, name) => queryParam(x.query, name)));
  const test = tests.length === 0 ? () => true : tests.length === 1 ? tests[0]! : (x: MatchInput) => tests.every((t) => t(x));
  // Precedence (Gateway API HTTPRoute): Exact > PathPrefix (longer first) > RegularExpression > none;
  // then method match; then more header matches; then more query matches; then declaration order.
  const segment = m.path && (m.path.type ?? "PathPrefix") !== "RegularExpression" && !(pathRank === 2 && pathPrefix === "/") ? firstSegment(m.path.value) : undefined;
  return { rule, test, pathPrefix, describe: describeMatch(m), segment, rank: [-pathRank, -pathLen, m.method ? 0 : 1, -(m.headers?.length ?? 0), -(m.queryParams?.length ?? 0), order] };
}

function valueTest(h: { type?: string; name: string; value?: string }, get: (x: MatchInput, name: string) => string | undefined) {
  const name = h.name.toLowerCase();
  const type = h.type ?? (h.value === undefined ? "Present" : "Exact");
  if (type === "Present") return (x: MatchInput) => get(x, name) !== undefined;
  if (type === "RegularExpression") {
    const re = new RegExp(`^(?:${h.value ?? ""})$`);
    return (x: MatchInput) => {
      const v = get(x, name);
      return v !== undefined && re.test(v);
    };
  }
  const want = h.value ?? "";
  return (x: MatchInput) => get(x, name) === want;
}

function queryParam(query: string, name: string): string | undefined {
  if (!query) return undefined;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k.toLowerCase() === name) return eq < 0 ? "" : decodeURIComponentSafe(part.slice(eq + 1));
  }
  return undefined;
}

const decodeURIComponentSafe = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
};

function byRank(a: Candidate, b: Candidate): number {
  for (let i = 0; i < a.rank.length; i++) {
    const d = a.rank[i]! - b.rank[i]!;
    if (d) return d;
  }
  return 0;
}

export function describeMatch(m: Match): string {
  const parts: string[] = [];
  if (m.path) parts.push(`path ${m.path.type ?? "PathPrefix"} ${m.path.value}`);
  if (m.method) parts.push(`method ${m.method}`);
  const cond = (kind: string, h: { type?: string; name: string; value?: string }) =>
    `${kind} ${h.name}${(h.type ?? (h.value === undefined ? "Present" : "Exact")) === "Present" ? " present" : h.type === "RegularExpression" ? ` ~ /${h.value}/` : `=${h.value}`}`;
  for (const h of m.headers ?? []) parts.push(cond("header", h));
  for (const q of m.queryParams ?? []) parts.push(cond("query", q));
  return parts.length ? parts.join(", ") : "any request (no match conditions)";
}
