// Security resources -> the security part of the Plan, compiled once per config version: authorization
// policies for this sidecar's service (matchers built here, looked up on the hot path) and mTLS settings.
import type { AnyResource } from "../schema.js";
import type { ConfigIssue } from "../load.js";
import type { AuthorizationRule } from "../kinds/authorization-policy.js";
import { compileIdentityPattern, DEFAULT_TRUST_DOMAIN, isTrustDomain, type IdentityMatcher } from "../../identity/spiffe.js";
import type { PathNormalization } from "../../identity/path.js";
import { spiffeId } from "../../identity/spiffe.js";
import { parseAddress } from "../units.js";

export type MtlsMode = "disable" | "permissive" | "strict";

export interface AuthzInput {
  /** The caller's verified SPIFFE ID, when it presented one. */
  identity: string | undefined;
  /** Normalized path (lower-cased when matching is case-insensitive), without the query. */
  path: string;
  method: string;
  header(name: string): string | undefined;
}

export interface CompiledPolicy {
  name: string;
  action: "ALLOW" | "DENY";
  dryRun: boolean;
  matches(input: AuthzInput): boolean;
}

export interface CompiledAuthz {
  normalization: PathNormalization;
  /** Policies in force (deny first, then allow) and the shadow set that includes dry-run policies. */
  enforced: PolicySet;
  shadow: PolicySet | undefined;
}

export interface PolicySet {
  deny: CompiledPolicy[];
  allow: CompiledPolicy[];
}

export interface IdentityPlan {
  /** This sidecar's own SPIFFE ID. */
  spiffeId: string;
  issuer?: string;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface PeerPlan {
  backend: string;
  /** SPIFFE IDs the endpoint's sidecar may present. */
  identities: IdentityMatcher[];
  /** The patterns, for error messages. */
  expected: string[];
}

export interface SecurityPlan {
  trustDomain: string;
  /** Inbound: permissive takes mTLS and plaintext on the same port; strict only mTLS; disable only plaintext. */
  mtlsMode: MtlsMode;
  identity: IdentityPlan | undefined;
  /** Outbound: endpoints (by address key) reached over mTLS, with the identities their sidecars may present. */
  peers: ReadonlyMap<string, PeerPlan>;
  /** Undefined when no AuthorizationPolicy applies to this sidecar's service: requests skip authz entirely. */
  authz: CompiledAuthz | undefined;
}

export function compileSecurity(resources: readonly AnyResource[], fail: (path: string, message: string) => void): SecurityPlan {
  const mesh = resources.find((r) => r.kind === "Mesh")?.spec as { trustDomain?: string; mtls?: { mode: MtlsMode }; authorization?: { pathCase?: string; escapedSlashes?: "reject" | "keep" } } | undefined;
  const trustDomain = mesh?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!isTrustDomain(trustDomain)) fail("Mesh.spec.trustDomain", `"${trustDomain}" is not a SPIFFE trust domain (lower-case letters, digits, ".", "-", "_")`);
  const sidecar = resources.find((r) => r.kind === "Sidecar");
  const service = sidecar?.kind === "Sidecar" ? sidecar.spec.service : undefined;
  const normalization: PathNormalization = {
    caseInsensitive: (mesh?.authorization?.pathCase ?? "insensitive") === "insensitive",
    escapedSlashes: mesh?.authorization?.escapedSlashes ?? "reject",
  };

  const policies: CompiledPolicy[] = [];
  for (const r of resources) {
    if (r.kind !== "AuthorizationPolicy") continue;
    const name = r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name;
    if (r.spec.service !== undefined && r.spec.service !== service) continue;
    const at = `AuthorizationPolicy/${r.metadata.name}.spec`;
    const rules = r.spec.rules.map((rule, i) => compileRule(rule, trustDomain, normalization.caseInsensitive, (field, msg) => fail(`${at}.rules[${i}].${field}`, msg)));
    policies.push({ name, action: r.spec.action ?? "ALLOW", dryRun: r.spec.dryRun ?? false, matches: (input) => rules.some((m) => m(input)) });
  }
  const set = (ps: CompiledPolicy[]): PolicySet => ({ deny: ps.filter((p) => p.action === "DENY"), allow: ps.filter((p) => p.action === "ALLOW") });
  const authz: CompiledAuthz | undefined = policies.length
    ? { normalization, enforced: set(policies.filter((p) => !p.dryRun)), shadow: policies.some((p) => p.dryRun) ? set(policies) : undefined }
    : undefined;
  const mtlsMode = mesh?.mtls?.mode ?? "disable";
  const namespace = sidecar?.kind === "Sidecar" ? (sidecar.spec.namespace ?? sidecar.metadata.namespace ?? "default") : "default";
  const peers = new Map<string, PeerPlan>();
  for (const r of resources) {
    if (r.kind !== "Backend") continue;
    const mode = r.spec.tls?.mode ?? (mtlsMode === "strict" ? "mutual" : "disable");
    if (mode !== "mutual") continue;
    const expected = r.spec.tls?.identities ?? [`ns/${r.metadata.namespace ?? namespace}/sa/${r.metadata.name}`];
    const identities = expected.flatMap((p, j) => {
      try {
        return [compileIdentityPattern(p, trustDomain)];
      } catch (err) {
        fail(`Backend/${r.metadata.name}.spec.tls.identities[${j}]`, (err as Error).message);
        return [];
      }
    });
    for (const e of r.spec.endpoints) {
      let key: string;
      try {
        key = parseAddress(e.address).key;
      } catch {
        continue; // the data plane reports bad addresses
      }
      const prev = peers.get(key);
      peers.set(key, prev ? { backend: `${prev.backend},${r.metadata.name}`, identities: [...prev.identities, ...identities], expected: [...prev.expected, ...expected] } : { backend: r.metadata.name, identities, expected });
    }
  }
  let identity: IdentityPlan | undefined;
  const id = sidecar?.kind === "Sidecar" ? sidecar.spec.identity : undefined;
  if (id && service) {
    let own = "";
    try {
      own = spiffeId(trustDomain, namespace, service);
    } catch (err) {
      fail("Sidecar.spec", `cannot form this sidecar's SPIFFE ID: ${(err as Error).message}`);
    }
    if (id.issuer && id.certFile) fail("Sidecar.spec.identity", "give either issuer (+ tokenFile) or certFile + keyFile, not both");
    else if (id.issuer && !id.tokenFile) fail("Sidecar.spec.identity.tokenFile", "an issuer needs a tokenFile with this sidecar's bootstrap token");
    else if (!id.issuer && !(id.certFile && id.keyFile)) fail("Sidecar.spec.identity", "give issuer + tokenFile, or certFile + keyFile");
    else if (id.certFile && !id.caFile) fail("Sidecar.spec.identity.caFile", "certificate files need the trust bundle (caFile) to verify peers");
    identity = { spiffeId: own, ...id };
  }
  if (!identity && (mtlsMode === "strict" || peers.size > 0))
    fail("Sidecar.spec.identity", `mTLS (${mtlsMode === "strict" ? "Mesh.spec.mtls.mode strict" : "a Backend with tls.mode mutual"}) needs a workload identity: set issuer + tokenFile, or certFile + keyFile + caFile`);
  return { trustDomain, mtlsMode, identity, peers, authz };
}

type Test = (input: AuthzInput) => boolean;

function compileRule(rule: AuthorizationRule, trustDomain: string, caseInsensitive: boolean, fail: (field: string, message: string) => void): Test {
  const tests: Test[] = [];
  const identities = (field: string, list: string[]): IdentityMatcher[] =>
    list.flatMap((p, j) => {
      try {
        return [compileIdentityPattern(p, trustDomain)];
      } catch (err) {
        fail(`${field}[${j}]`, (err as Error).message);
        return [];
      }
    });
  if (rule.identities) {
    const ms = identities("identities", rule.identities);
    tests.push((i) => ms.some((m) => m(i.identity)));
  }
  if (rule.notIdentities) {
    const ms = identities("notIdentities", rule.notIdentities);
    tests.push((i) => !ms.some((m) => m(i.identity)));
  }
  if (rule.paths) {
    const ms = rule.paths.map((p, j) => compilePathPattern(p, caseInsensitive, (msg) => fail(`paths[${j}]`, msg)));
    tests.push((i) => ms.some((m) => m(i.path)));
  }
  if (rule.notPaths) {
    const ms = rule.notPaths.map((p, j) => compilePathPattern(p, caseInsensitive, (msg) => fail(`notPaths[${j}]`, msg)));
    tests.push((i) => !ms.some((m) => m(i.path)));
  }
  if (rule.methods) {
    const methods = new Set(rule.methods);
    tests.push((i) => methods.has(i.method));
  }
  for (const h of rule.headers ?? []) {
    const name = h.name.toLowerCase();
    const ms = h.values.map(compileValuePattern);
    tests.push((i) => {
      const v = i.header(name);
      return v !== undefined && ms.some((m) => m(v));
    });
  }
  return (input) => tests.every((t) => t(input));
}

/** Istio's path forms: exact, `/prefix/*`, `*suffix`, `*`. Patterns are normalized like request paths. */
function compilePathPattern(pattern: string, caseInsensitive: boolean, fail: (message: string) => void): (path: string) => boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  if (p === "*") return () => true;
  if (p.endsWith("*") && p.indexOf("*") === p.length - 1) {
    const prefix = p.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  if (p.startsWith("*") && p.lastIndexOf("*") === 0) {
    const suffix = p.slice(1);
    return (path) => path.endsWith(suffix);
  }
  if (p.includes("*")) fail(`"${pattern}": * is allowed only as a whole path, a prefix (/api/*) or a suffix (*.json)`);
  if (!p.startsWith("/")) fail(`"${pattern}": a path must start with "/"`);
  return (path) => path === p;
}

function compileValuePattern(pattern: string): (v: string) => boolean {
  if (pattern === "*") return () => true;
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  if (pattern.startsWith("*")) {
    const suffix = pattern.slice(1);
    return (v) => v.endsWith(suffix);
  }
  return (v) => v === pattern;
}

export type { ConfigIssue };
