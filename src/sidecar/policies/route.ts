// Route policy: picks the rule for this request (precedence fixed at compile time) and the backendRef by weight
// (or by a sticky hash, split.ts).
// Outbound: an unknown host is UNKNOWN_SERVICE. Inbound: the target is always the local app; rules add filters only.
import type { Plan } from "../../config/compile.js";
import { firstSegment, type Candidate, type MatchInput, type RouteTable } from "../../config/compile/routes.js";
import { MeshError } from "../../errors.js";
import type { Exchange, Policy } from "../chain.js";
import { chooseRef, pickRef } from "./split.js";

export { pickRef };

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
  const idx = table.index.get(ex.host) ?? table.index.get("*");
  if (!idx) return { candidates: undefined, match: undefined };
  const candidates = idx.bySegment.get(firstSegment(ex.path)) ?? idx.any;
  const input = matchInput(ex);
  for (const c of candidates) if (c.test(input)) return { candidates, match: c };
  return { candidates, match: undefined };
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
  const { ref, sticky } = chooseRef(rule, ex.headers);
  if (sticky) ex.notes.sticky = true;
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
