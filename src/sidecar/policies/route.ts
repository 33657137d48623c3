// Route policy: picks the rule for this request (precedence fixed at compile time) and the backendRef by weight.
// Outbound: an unknown host is UNKNOWN_SERVICE. Inbound: the target is always the local app; rules add filters only.
import type { Plan } from "../../config/compile.js";
import type { Candidate, CompiledRule, MatchInput, RouteTable } from "../../config/compile/routes.js";
import { MeshError } from "../../errors.js";
import type { Exchange, Policy } from "../chain.js";

export function matchInput(ex: Exchange): MatchInput {
  const q = ex.path.indexOf("?");
  return {
    method: ex.method,
    path: q < 0 ? ex.path : ex.path.slice(0, q),
    query: q < 0 ? "" : ex.path.slice(q + 1),
    header: (name) => {
      const v = ex.headers[name];
      return v === undefined ? undefined : Array.isArray(v) ? v.join(",") : v;
    },
  };
}

export function findCandidate(table: RouteTable, ex: Exchange): { candidates: Candidate[] | undefined; match: Candidate | undefined } {
  const candidates = table.byHost.get(ex.host) ?? table.byHost.get("*");
  if (!candidates) return { candidates, match: undefined };
  const input = matchInput(ex);
  for (const c of candidates) if (c.test(input)) return { candidates, match: c };
  return { candidates, match: undefined };
}

/** Weighted choice over a rule's backendRefs; `roll` in [0, 1) lets sticky splits pass a hash instead of a random. */
export function pickRef(rule: CompiledRule, roll = Math.random()) {
  const refs = rule.refs;
  if (refs.length <= 1 || rule.totalWeight === 0) return refs[0];
  const x = roll * rule.totalWeight;
  const cum = rule.cumulative;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < cum[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return refs[lo];
}

export const outboundRoute = (plan: Plan): Policy => async (ex, next) => {
  const { candidates, match } = findCandidate(plan.outbound, ex);
  if (!match) {
    if (candidates) throw new MeshError("NO_ROUTE", `host "${ex.host}" has routes, but none matches ${ex.method} ${ex.path.split("?")[0]}.`);
    if (!plan.backends.has(ex.host)) throw new MeshError("UNKNOWN_SERVICE", `No Backend or Route for host "${ex.host}".`);
    ex.target = { backend: ex.host };
    ex.notes.route = `${ex.host}/default`;
    ex.notes.backend = ex.host;
    return next(ex);
  }
  const rule = match.rule;
  ex.notes.route = rule.id;
  ex.notes.ruleRef = rule;
  ex.notes.matchedPrefix = match.pathPrefix;
  const ref = pickRef(rule);
  ex.target = ref ? { backend: ref.backend, subset: ref.subset } : { backend: ex.host };
  ex.notes.backend = ex.target.backend;
  if (ex.target.subset) ex.notes.subset = ex.target.subset;
  return next(ex);
};

export const inboundRoute = (plan: Plan): Policy => async (ex, next) => {
  const { match } = findCandidate(plan.inbound, ex);
  ex.target = { backend: plan.sidecar.service, app: true };
  ex.notes.backend = plan.sidecar.service;
  ex.notes.subset = plan.sidecar.version;
  if (match) {
    ex.notes.route = match.rule.id;
    ex.notes.ruleRef = match.rule;
    ex.notes.matchedPrefix = match.pathPrefix;
  } else ex.notes.route = "inbound/default";
  return next(ex);
};
