// The identity extension of the control plane: serves the API over TLS with a certificate from the mesh CA,
// authenticates sidecars by their workload certificate (SPIFFE ID -> role sidecar for that one service), and
// mounts certificate issuance (POST /v1/certificates) for sidecars holding a bootstrap token or a workload cert.
// TLS is on whenever the CA exists (--ca, OUTRIGGER_CA_DIR or <data>/ca); --insecure-http keeps plain HTTP.
import https from "node:https";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { ControlPlaneExtensionFactory } from "../control-plane/extension.js";
import type { Authenticator, AuthResult } from "../control-plane/auth/principal.js";
import { MeshError } from "../errors.js";
import { parseDuration } from "../config/units.js";
import { CertificateAuthority, CA_FILES, DEFAULT_WORKLOAD_TTL_MS, type IssuedCertificate } from "./ca.js";
import { issueWorkloadCertificate } from "./issuer.js";
import { parseSpiffeId, spiffeIdFromAltNames } from "./spiffe.js";
import { ALPN, TLS_POLICY } from "./tls-policy.js";

/** Sidecars that present a workload certificate of the mesh: the SPIFFE ID names the one service they act as. */
export function workloadCertificateAuthenticator(trustDomain: () => string | undefined): Authenticator {
  return {
    name: "workload-certificate",
    authenticate(req: IncomingMessage): AuthResult {
      const socket = req.socket as TLSSocket;
      if (typeof socket.getPeerCertificate !== "function") return undefined;
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.subjectaltname) return undefined; // no client certificate: tokens decide
      if (!socket.authorized) return { reject: `Client certificate not trusted (${String(socket.authorizationError)}).` };
      const id = spiffeIdFromAltNames(cert.subjectaltname);
      const w = id ? parseSpiffeId(id) : undefined;
      if (!w || w.trustDomain !== trustDomain()) return { reject: "Client certificate carries no workload SPIFFE ID of this trust domain." };
      return { subject: id!, role: "sidecar", service: w.service };
    },
  };
}

export const identityExtension: ControlPlaneExtensionFactory = (ctx) => {
  const flags = ctx.flags as { ca?: string; insecureHttp?: boolean; workloadCertTtl?: string; listen?: string };
  const dir = flags.ca ?? process.env.OUTRIGGER_CA_DIR ?? path.join(ctx.dataDir, "ca");
  const ttlMs = flags.workloadCertTtl ? parseDuration(flags.workloadCertTtl) : DEFAULT_WORKLOAD_TTL_MS;
  let ca: CertificateAuthority | undefined;
  let serving: (IssuedCertificate & { key: string }) | undefined;
  return {
    name: "identity",
    async start() {
      const present = await stat(path.join(dir, CA_FILES.key)).then(() => true, () => false);
      if (!present) {
        if (flags.ca) throw new Error(`--ca ${dir}: no CA there (run \`outrigger ca init --dir ${dir}\`)`);
        ctx.logger.warn({ event: "identity.no_ca", dir }, "no mesh CA: certificate issuance is off and the API is served without TLS (run `outrigger ca init`)");
        return;
      }
      ca = await CertificateAuthority.load(dir);
      if (flags.insecureHttp) {
        ctx.logger.warn({ event: "identity.insecure_http" }, "--insecure-http: serving the API without TLS");
        return;
      }
      const host = flags.listen ? flags.listen.replace(/:\d+$/, "").replace(/^\[|\]$/g, "") : "127.0.0.1";
      const ips = [...new Set(["127.0.0.1", "::1", ...(isIP(host) ? [host] : [])])];
      const dns = [...new Set(["localhost", hostname(), ...(isIP(host) ? [] : [host])])];
      serving = await ca.issueServer({ ips, dnsNames: dns, spiffeId: `spiffe://${ca.trustDomain}/ns/outrigger-system/sa/control-plane`, commonName: "outrigger-control-plane" });
      ctx.logger.info({ event: "identity.tls", notAfter: serving.notAfter, names: [...dns, ...ips] }, "serving the API over TLS with a mesh CA certificate");
    },
    authenticators: () => [workloadCertificateAuthenticator(() => ca?.trustDomain)],
    createServer(listener) {
      if (!serving || !ca) return undefined;
      // Client certificates are requested, not required: people and scripts authenticate with tokens.
      return https.createServer({ key: serving.key, cert: serving.certificate + serving.chain.join(""), ca: ca.trustBundle.join(""), requestCert: true, rejectUnauthorized: false, ...TLS_POLICY, ALPNProtocols: ALPN }, listener);
    },
    routes(table) {
      table.add({
        method: "POST",
        path: "/v1/certificates",
        auth: ["sidecar", "operator"],
        action: "request a workload certificate",
        handler: async (c) => {
          if (!ca) throw new MeshError("NOT_FOUND", "This control plane has no mesh CA (run `outrigger ca init`).");
          const issued = await issueWorkloadCertificate(c.principal, await c.json(), { ca, ttlMs });
          await ctx.audit({ who: c.principal!.subject, action: "certificate.issue", result: "ok", spiffeId: issued.spiffeId, notAfter: issued.notAfter });
          c.send(200, issued);
        },
      });
    },
  };
};
