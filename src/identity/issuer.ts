// Certificate issuance: who may get a workload certificate for which SPIFFE ID. Mounted on the control plane
// as POST /v1/certificates; the caller is already authenticated (bearer token or workload certificate).
// A sidecar principal may claim only its own service (in its namespace); operators any workload of the trust domain.
import { MeshError } from "../errors.js";
import type { CertificateAuthority, IssuedCertificate } from "./ca.js";
import { CaError, DEFAULT_WORKLOAD_TTL_MS } from "./ca.js";
import { parseSpiffeId } from "./spiffe.js";
import { parseCsr } from "./x509.js";

export interface IssuerPrincipal {
  subject: string;
  role: string;
  service?: string;
  namespace?: string;
}

export interface IssuerOptions {
  ca: CertificateAuthority;
  /** Workload certificate lifetime (default 24 h). */
  ttlMs?: number;
  /** Namespace a sidecar principal without one may claim (default "default"). */
  defaultNamespace?: string;
}

export const MAX_CSR_BYTES = 16 * 1024;

export async function issueWorkloadCertificate(principal: IssuerPrincipal | undefined, body: unknown, o: IssuerOptions): Promise<IssuedCertificate> {
  if (!principal) throw new MeshError("UNAUTHENTICATED");
  const csr = (body as { csr?: unknown } | null)?.csr;
  if (typeof csr !== "string" || csr.length > MAX_CSR_BYTES) throw new MeshError("BAD_REQUEST", `Send {"csr": "<PEM PKCS#10>"} (at most ${MAX_CSR_BYTES} bytes).`);
  let uris: string[];
  try {
    uris = (await parseCsr(csr)).uris;
  } catch (err) {
    throw new MeshError("BAD_REQUEST", `${(err as Error).message}.`);
  }
  if (uris.length !== 1) throw new MeshError("BAD_REQUEST", "The CSR must name exactly one SPIFFE ID as its URI SAN.");
  const claimed = uris[0]!;
  const id = parseSpiffeId(claimed);
  if (!id || id.trustDomain !== o.ca.trustDomain) throw new MeshError("BAD_REQUEST", `"${claimed}" is not spiffe://${o.ca.trustDomain}/ns/<namespace>/sa/<service>.`);
  if (principal.role === "sidecar") {
    const ns = principal.namespace ?? o.defaultNamespace ?? "default";
    if (id.service !== principal.service || id.namespace !== ns)
      throw new MeshError("FORBIDDEN", `This token may claim only spiffe://${o.ca.trustDomain}/ns/${ns}/sa/${principal.service ?? "?"}.`);
  } else if (principal.role !== "operator") throw new MeshError("FORBIDDEN", `Role ${principal.role} may not request workload certificates.`);
  try {
    return await o.ca.issueWorkload(csr, claimed, o.ttlMs ?? DEFAULT_WORKLOAD_TTL_MS);
  } catch (err) {
    if (err instanceof CaError) throw new MeshError("BAD_REQUEST", err.message);
    throw err;
  }
}
