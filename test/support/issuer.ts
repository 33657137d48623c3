// A real mesh CA plus the workload-certificate issuer served on loopback with fixed bearer tokens, for tests that
// need sidecars with identities before (or without) a control plane. Tokens can be revoked and added at run time.
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { CertificateAuthority } from "../../src/identity/ca.js";
import { issueWorkloadCertificate, type IssuerPrincipal } from "../../src/identity/issuer.js";
import { MeshError } from "../../src/errors.js";

export interface TestIssuer {
  ca: CertificateAuthority;
  dir: string;
  url: string;
  tokens: Map<string, IssuerPrincipal>;
  /** Certificates issued so far, by SPIFFE ID. */
  issued: Map<string, number>;
  ttlMs: number;
  /** Writes a token file for a sidecar principal and returns its path. */
  tokenFile(token: string, principal: IssuerPrincipal): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(opts: { trustDomain?: string; ttlMs?: number } = {}): Promise<TestIssuer> {
  const dir = await mkdtemp(path.join(tmpdir(), "issuer-"));
  const ca = await CertificateAuthority.init(path.join(dir, "ca"), { trustDomain: opts.trustDomain ?? "mesh.test" });
  const tokens = new Map<string, IssuerPrincipal>();
  const issued = new Map<string, number>();
  const state = { ttlMs: opts.ttlMs ?? 24 * 3600e3 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        try {
          if (req.method !== "POST" || req.url !== "/v1/certificates") throw new MeshError("NOT_FOUND");
          const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
          const principal = m ? tokens.get(m[1]!) : undefined;
          const cert = await issueWorkloadCertificate(principal, JSON.parse(Buffer.concat(chunks).toString() || "{}"), { ca, ttlMs: state.ttlMs });
          issued.set(cert.spiffeId!, (issued.get(cert.spiffeId!) ?? 0) + 1);
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(cert));
        } catch (err) {
          const me = err instanceof MeshError ? err : new MeshError("INTERNAL", (err as Error).message);
          res.writeHead(me.status, { "content-type": "application/json", "x-outrigger-error": me.code }).end(JSON.stringify(me.toJSON()));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ca,
    dir,
    url,
    tokens,
    issued,
    get ttlMs() {
      return state.ttlMs;
    },
    set ttlMs(v: number) {
      state.ttlMs = v;
    },
    async tokenFile(token, principal) {
      tokens.set(token, principal);
      const f = path.join(dir, `${token}.token`);
      await writeFile(f, `${token}\n`, { mode: 0o600 });
      return f;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
