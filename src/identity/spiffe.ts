// SPIFFE IDs (spiffe://<trust-domain>/ns/<namespace>/sa/<service>): building, parsing, and the identity
// patterns authorization policies and outbound peer checks compile once (exact, or wildcard namespace/service).

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]{1,63}$/;
const WORKLOAD = /^spiffe:\/\/([a-z0-9._-]{1,255})\/ns\/([A-Za-z0-9._-]{1,63})\/sa\/([A-Za-z0-9._-]{1,63})$/;

export interface WorkloadId {
  trustDomain: string;
  namespace: string;
  service: string;
}

export const DEFAULT_TRUST_DOMAIN = "cluster.local";

export function isTrustDomain(td: string): boolean {
  return TRUST_DOMAIN.test(td);
}

export function spiffeId(trustDomain: string, namespace: string, service: string): string {
  if (!TRUST_DOMAIN.test(trustDomain)) throw new Error(`invalid trust domain "${trustDomain}" (lower-case letters, digits, ".", "-", "_")`);
  if (!SEGMENT.test(namespace)) throw new Error(`invalid namespace "${namespace}" for a SPIFFE ID`);
  if (!SEGMENT.test(service)) throw new Error(`invalid service "${service}" for a SPIFFE ID`);
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${service}`;
}

/** Parses a workload SPIFFE ID of the mesh's shape; undefined when it is not one. */
export function parseSpiffeId(id: string): WorkloadId | undefined {
  const m = WORKLOAD.exec(id);
  return m ? { trustDomain: m[1]!, namespace: m[2]!, service: m[3]! } : undefined;
}

/**
 * The URI SANs of a peer certificate as node reports them (`subjectaltname`: "URI:spiffe://..., DNS:x").
 * An X509-SVID has exactly one URI SAN; anything else yields undefined.
 */
export function spiffeIdFromAltNames(subjectaltname: string | undefined): string | undefined {
  if (!subjectaltname) return undefined;
  const uris = subjectaltname
    .split(", ")
    .filter((n) => n.startsWith("URI:"))
    .map((n) => n.slice(4).replace(/^"(.*)"$/, "$1"));
  if (uris.length !== 1 || !uris[0]!.startsWith("spiffe://")) return undefined;
  return uris[0];
}

export type IdentityMatcher = (id: string | undefined) => boolean;

/**
 * Compiles an identity pattern: a full SPIFFE ID (`spiffe://td/ns/prod/sa/web`), a short form within the mesh's
 * trust domain (`ns/prod/sa/web`), with `*` for a whole namespace or service segment (`ns/prod/sa/*`,
 * `spiffe://td/ns/*\/sa/*`), or `*` alone for any authenticated identity of this trust domain.
 */
export function compileIdentityPattern(pattern: string, trustDomain: string): IdentityMatcher {
  if (pattern === "*") return (id) => id !== undefined && parseSpiffeId(id)?.trustDomain === trustDomain;
  let td = trustDomain;
  let rest = pattern;
  if (pattern.startsWith("spiffe://")) {
    const slash = pattern.indexOf("/", 9);
    if (slash < 0) throw new Error(`identity "${pattern}": expected spiffe://<trust-domain>/ns/<namespace>/sa/<service>`);
    td = pattern.slice(9, slash);
    rest = pattern.slice(slash + 1);
  }
  const m = /^ns\/([^/]+)\/sa\/([^/]+)$/.exec(rest);
  if (!m || !TRUST_DOMAIN.test(td)) throw new Error(`identity "${pattern}": expected ns/<namespace>/sa/<service> or spiffe://<trust-domain>/ns/<namespace>/sa/<service> (* allowed for a whole segment)`);
  const [ns, sa] = [m[1]!, m[2]!];
  for (const seg of [ns, sa]) if (seg !== "*" && !SEGMENT.test(seg)) throw new Error(`identity "${pattern}": segment "${seg}" must be a name or *`);
  if (ns !== "*" && sa !== "*") {
    const exact = `spiffe://${td}/ns/${ns}/sa/${sa}`;
    return (id) => id === exact;
  }
  return (id) => {
    const w = id === undefined ? undefined : parseSpiffeId(id);
    return w !== undefined && w.trustDomain === td && (ns === "*" || w.namespace === ns) && (sa === "*" || w.service === sa);
  };
}
