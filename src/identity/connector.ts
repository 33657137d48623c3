// Outbound mTLS: connections to endpoints whose Backend uses mutual TLS present this sidecar's workload
// certificate, verify the chain against the trust bundle, and check that the peer's SPIFFE ID is one the target
// service may present. Built per (endpoint, certificate generation, plan), so a rotation applies to new connections.
import { buildConnector } from "undici";
import type { PeerCertificate } from "node:tls";
import type { Plan } from "../config/compile.js";
import type { PeerPlan } from "../config/compile/security.js";
import type { EndpointPlan } from "../config/compile/backends.js";
import type { UpstreamConnector } from "../sidecar/upstream/pools.js";
import { ALPN, TLS_POLICY } from "./tls-policy.js";
import { spiffeIdFromAltNames } from "./spiffe.js";
import type { WorkloadIdentity } from "./workload.js";

export const PEER_IDENTITY_MISMATCH = "ERR_OUTRIGGER_PEER_IDENTITY";
export const NO_WORKLOAD_CERTIFICATE = "ERR_OUTRIGGER_NO_CERTIFICATE";

export function checkPeer(cert: PeerCertificate, peer: PeerPlan): Error | undefined {
  const id = spiffeIdFromAltNames(cert.subjectaltname);
  if (id && peer.identities.some((m) => m(id))) return undefined;
  const err = new Error(`peer presented ${id ?? "no SPIFFE ID"}; backend ${peer.backend} may present ${peer.expected.join(" or ")}`) as NodeJS.ErrnoException;
  err.code = PEER_IDENTITY_MISMATCH;
  return err;
}

export function mtlsConnector(identity: WorkloadIdentity, plan: () => Plan, connectTimeoutMs: number): UpstreamConnector {
  let cache = new Map<string, buildConnector.connector>();
  let cacheKey = "";
  return (ep: EndpointPlan) => {
    const p = plan();
    const peer = p.security.peers.get(ep.key);
    if (!peer) return undefined;
    const m = identity.current();
    if (!m)
      return (_opts, cb) => {
        const err = new Error(`no workload certificate yet for ${identity.plan.spiffeId}`) as NodeJS.ErrnoException;
        err.code = NO_WORKLOAD_CERTIFICATE;
        cb(err, null);
      };
    const key = `${m.generation}\u0000${p.version}`;
    if (key !== cacheKey) {
      cache = new Map(); // bounded: one connector per endpoint, dropped with every rotation or plan
      cacheKey = key;
    }
    let c = cache.get(ep.key);
    if (!c) {
      const built = buildConnector({
        timeout: connectTimeoutMs,
        key: m.key,
        cert: m.cert,
        ca: m.ca,
        ...TLS_POLICY,
        ALPNProtocols: ALPN,
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeer(cert, peer),
      } as buildConnector.BuildOptions);
      c = (opts, cb) => built({ ...opts, protocol: "https:" }, cb);
      cache.set(ep.key, c);
    }
    return c;
  };
}
