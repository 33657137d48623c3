// Authorization policy (admit slot, inbound): normalizes the path as Envoy does, then applies the compiled
// AuthorizationPolicies: deny wins; once any ALLOW policy applies, everything else is denied. Dry-run policies
// are evaluated as a shadow set whose would-be denials are logged and counted, never enforced.
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import type { AuthzInput, CompiledAuthz, PolicySet } from "../config/compile/security.js";
import { MeshError } from "../errors.js";
import type { Policy } from "../sidecar/chain.js";
import { normalizePath } from "./path.js";

export interface Decision {
  allowed: boolean;
  /** The policy that decided; for a default deny, the ALLOW policies none of which matched. */
  policy: string;
}

export function decide(set: PolicySet, input: AuthzInput): Decision {
  for (const p of set.deny) if (p.matches(input)) return { allowed: false, policy: p.name };
  if (set.allow.length === 0) return { allowed: true, policy: "" };
  for (const p of set.allow) if (p.matches(input)) return { allowed: true, policy: p.name };
  return { allowed: false, policy: `default-deny(${set.allow.map((p) => p.name).join(",")})` };
}

export interface AuthzDeps {
  logger: Logger;
  decisions: Counter<"decision" | "policy">;
}

export const authorize = (authz: CompiledAuthz, deps: AuthzDeps): Policy => async (ex, next) => {
  const q = ex.path.indexOf("?");
  const raw = q < 0 ? ex.path : ex.path.slice(0, q);
  const n = normalizePath(raw, authz.normalization);
  if (!n.ok) {
    ex.notes.authz = "rejected";
    deps.decisions.inc({ decision: "rejected_path", policy: "" });
    throw new MeshError("BAD_REQUEST", `${n.reason}.`);
  }
  // Forward the normalized path, so the app serves exactly what was authorized (Envoy does the same).
  if (n.path !== raw) ex.path = q < 0 ? n.path : n.path + ex.path.slice(q);
  const input: AuthzInput = {
    identity: ex.peer.identity,
    path: authz.normalization.caseInsensitive ? n.path.toLowerCase() : n.path,
    method: ex.method,
    header: (name) => {
      const v = ex.headers[name];
      return v === undefined ? undefined : Array.isArray(v) ? v.join(",") : v;
    },
  };
  const d = decide(authz.enforced, input);
  if (!d.allowed) {
    ex.notes.authz = "deny";
    ex.notes.authzPolicy = d.policy;
    deps.decisions.inc({ decision: "deny", policy: d.policy });
    deps.logger.warn({ event: "authz.denied", policy: d.policy, identity: input.identity ?? null, method: ex.method, path: n.path, requestId: ex.requestId }, "request denied by authorization policy");
    throw new MeshError("AUTHZ_DENIED");
  }
  if (authz.shadow) {
    const s = decide(authz.shadow, input);
    if (!s.allowed) {
      ex.notes.authzDryRun = s.policy;
      deps.decisions.inc({ decision: "dry_run_deny", policy: s.policy });
      deps.logger.info({ event: "authz.dry_run_denied", policy: s.policy, identity: input.identity ?? null, method: ex.method, path: n.path, requestId: ex.requestId }, "dry-run policy would deny this request");
    }
  }
  ex.notes.authz = "allow";
  deps.decisions.inc({ decision: "allow", policy: d.policy });
  return next(ex);
};
