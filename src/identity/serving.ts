// Server certificates from the mesh CA for the collector (and any management endpoint): issued at start for the
// listen address plus loopback names, TLS parameters from tls-policy. Undefined when no CA exists.
import https from "node:https";
import type http from "node:http";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { stat } from "node:fs/promises";
import path from "node:path";
import { CertificateAuthority, CA_FILES } from "./ca.js";
import { ALPN, TLS_POLICY } from "./tls-policy.js";

export interface MeshServing {
  ca: CertificateAuthority;
  /** Builds an https server with the issued certificate; client certificates are requested, not required. */
  serve(handler: http.RequestListener): http.Server;
  notAfter: string;
}

/** Loads the CA in `dir` (if it exists) and issues a serving certificate for `host` + localhost/127.0.0.1/::1. */
export async function meshServing(dir: string, host: string, service: string): Promise<MeshServing | undefined> {
  if (!(await stat(path.join(dir, CA_FILES.key)).then(() => true, () => false))) return undefined;
  const ca = await CertificateAuthority.load(dir);
  const bare = host.replace(/^\[|\]$/g, "");
  const ips = [...new Set(["127.0.0.1", "::1", ...(isIP(bare) ? [bare] : [])])];
  const dnsNames = [...new Set(["localhost", hostname(), ...(isIP(bare) ? [] : [bare])])];
  const s = await ca.issueServer({ ips, dnsNames, spiffeId: `spiffe://${ca.trustDomain}/ns/outrigger-system/sa/${service}`, commonName: `outrigger-${service}` });
  return {
    ca,
    notAfter: s.notAfter,
    serve: (handler) => https.createServer({ key: s.key, cert: s.certificate + s.chain.join(""), ca: ca.trustBundle.join(""), requestCert: true, rejectUnauthorized: false, ...TLS_POLICY, ALPNProtocols: ALPN }, handler),
  };
}
