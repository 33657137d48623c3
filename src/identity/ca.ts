// The mesh certificate authority on disk: a root it created, or an intermediate the operator brought (key + chain).
// Files are written 0600 in a 0700 directory. It issues workload certificates (X509-SVIDs) from CSRs and
// server certificates for the control plane and collector.
import { mkdir, readFile, writeFile, chmod, stat, rename } from "node:fs/promises";
import { createPrivateKey, X509Certificate } from "node:crypto";
import path from "node:path";
import { generateCaKey, generateP256, importSigningKey, parseCsr, selfSignedRoot, signCertificate, splitCertificates, type SigningKey } from "./x509.js";
import { isTrustDomain, parseSpiffeId } from "./spiffe.js";

export const CA_FILES = {
  key: "ca.key",
  cert: "ca.crt",
  /** The CA certificate and any intermediates above it (what workloads append to their leaf). */
  chain: "ca-chain.pem",
  /** Trust anchors: the self-signed root(s) every party verifies against. */
  bundle: "trust-bundle.pem",
  meta: "ca.json",
} as const;

export const DEFAULT_WORKLOAD_TTL_MS = 24 * 3_600_000;
/** Clock skew tolerance: certificates are valid from slightly before issuance. */
const BACKDATE_MS = 60_000;

export interface CaInitOptions {
  trustDomain: string;
  /** Root validity in days (a created root only). */
  days?: number;
  /** Bring an intermediate: its private key and its chain (intermediate first, root last). */
  keyPem?: string;
  chainPem?: string;
  force?: boolean;
}

export interface IssuedCertificate {
  certificate: string;
  /** Intermediates to present after the leaf (empty for a root CA). */
  chain: string[];
  trustBundle: string[];
  spiffeId?: string;
  notBefore: string;
  notAfter: string;
}

export class CaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaError";
  }
}

export class CertificateAuthority {
  private constructor(
    readonly dir: string,
    readonly trustDomain: string,
    readonly cert: X509Certificate,
    private readonly key: SigningKey,
    /** Intermediates from this CA up to, not including, the root. */
    readonly intermediates: string[],
    readonly trustBundle: string[],
  ) {}

  static async init(dir: string, opts: CaInitOptions): Promise<CertificateAuthority> {
    if (!isTrustDomain(opts.trustDomain)) throw new CaError(`invalid trust domain "${opts.trustDomain}" (lower-case letters, digits, ".", "-", "_")`);
    if (!opts.force && (await exists(path.join(dir, CA_FILES.key)))) throw new CaError(`${path.join(dir, CA_FILES.key)} exists; pass --force to replace the CA (every workload certificate it issued stops verifying)`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    let keyPem: string;
    let certs: string[];
    if (opts.keyPem || opts.chainPem) {
      if (!opts.keyPem || !opts.chainPem) throw new CaError("an intermediate needs both its key (--key) and its chain (--chain)");
      keyPem = opts.keyPem;
      certs = splitCertificates(opts.chainPem);
      checkIntermediate(keyPem, certs);
    } else {
      const k = await generateCaKey();
      const root = await selfSignedRoot(`CN=Outrigger mesh root CA,O=${opts.trustDomain}`, k.keys, opts.days ?? 3650);
      keyPem = k.pem;
      certs = [root.toString()];
    }
    await writeSecret(path.join(dir, CA_FILES.key), keyPem);
    await writeSecret(path.join(dir, CA_FILES.cert), certs[0]!);
    await writeSecret(path.join(dir, CA_FILES.chain), certs.slice(0, Math.max(1, certs.length - 1)).join(""));
    await writeSecret(path.join(dir, CA_FILES.bundle), certs[certs.length - 1]!);
    await writeSecret(path.join(dir, CA_FILES.meta), JSON.stringify({ trustDomain: opts.trustDomain, kind: certs.length > 1 ? "intermediate" : "root", createdAt: new Date().toISOString() }, null, 2) + "\n");
    return CertificateAuthority.load(dir);
  }

  static async load(dir: string): Promise<CertificateAuthority> {
    const read = async (f: string) => {
      try {
        return await readFile(path.join(dir, f), "utf8");
      } catch (err) {
        throw new CaError(`cannot read ${path.join(dir, f)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (run \`outrigger ca init --dir ${dir}\` first)`);
      }
    };
    const meta = JSON.parse(await read(CA_FILES.meta)) as { trustDomain: string };
    const keyPem = await read(CA_FILES.key);
    const chain = splitCertificates(await read(CA_FILES.chain));
    const cert = new X509Certificate(chain[0]!);
    const key = await importSigningKey(keyPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new CaError(`${CA_FILES.key} does not match ${CA_FILES.cert}`);
    const bundle = splitCertificates(await read(CA_FILES.bundle));
    const selfSigned = cert.checkIssued(cert);
    return new CertificateAuthority(dir, meta.trustDomain, cert, key, selfSigned ? [] : chain, bundle);
  }

  /**
   * Issues a workload certificate for a CSR. The caller (the issuer endpoint) has already checked that the
   * requester may claim `spiffeId`; the CSR must ask for exactly that ID (or none) and use an ECDSA P-256 key.
   */
  async issueWorkload(csrPem: string, spiffeId: string, ttlMs = DEFAULT_WORKLOAD_TTL_MS): Promise<IssuedCertificate> {
    const id = parseSpiffeId(spiffeId);
    if (!id || id.trustDomain !== this.trustDomain) throw new CaError(`"${spiffeId}" is not a workload ID in trust domain ${this.trustDomain}`);
    const csr = await parseCsr(csrPem).catch((err: Error) => {
      throw new CaError(err.message);
    });
    if (csr.uris.some((u) => u !== spiffeId)) throw new CaError(`the CSR asks for ${csr.uris.join(", ")}, but the token may claim only ${spiffeId}`);
    const now = Date.now();
    const notAfter = Math.min(now + ttlMs, new Date(this.cert.validTo).getTime());
    const cert = await signCertificate({
      issuer: this.cert,
      issuerKey: this.key,
      publicKey: csr.publicKey,
      subject: `O=${this.trustDomain},OU=${id.namespace},CN=${id.service}`,
      notBefore: new Date(Math.min(now - BACKDATE_MS, now)),
      notAfter: new Date(notAfter),
      uris: [spiffeId],
    });
    return { certificate: cert.toString(), chain: this.intermediates, trustBundle: this.trustBundle, spiffeId, notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString() };
  }

  /** A server certificate (key generated here) for the control plane or collector: DNS/IP SANs plus an optional SPIFFE ID. */
  async issueServer(opts: { dnsNames?: string[]; ips?: string[]; spiffeId?: string; ttlMs?: number; commonName?: string }): Promise<IssuedCertificate & { key: string }> {
    const k = await generateP256();
    const now = Date.now();
    const cert = await signCertificate({
      issuer: this.cert,
      issuerKey: this.key,
      publicKey: k.keys.publicKey,
      subject: `O=${this.trustDomain},CN=${opts.commonName ?? opts.dnsNames?.[0] ?? opts.ips?.[0] ?? "outrigger"}`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(Math.min(now + (opts.ttlMs ?? 90 * 86_400_000), new Date(this.cert.validTo).getTime())),
      ...(opts.spiffeId ? { uris: [opts.spiffeId] } : {}),
      dnsNames: opts.dnsNames ?? [],
      ips: opts.ips ?? [],
    });
    return { key: k.pem, certificate: cert.toString(), chain: this.intermediates, trustBundle: this.trustBundle, ...(opts.spiffeId ? { spiffeId: opts.spiffeId } : {}), notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString() };
  }
}

/** An operator-supplied intermediate: the key matches the first certificate, which is a CA, and the chain links to a self-signed root. */
function checkIntermediate(keyPem: string, certs: string[]): void {
  if (certs.length < 2) throw new CaError("the chain must hold the intermediate certificate first and its root last (at least two certificates)");
  const parsed = certs.map((c, i) => {
    try {
      return new X509Certificate(c);
    } catch (err) {
      throw new CaError(`chain certificate ${i + 1}: ${(err as Error).message}`);
    }
  });
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CaError(`the key is not a PEM private key (${(err as Error).message})`);
  }
  if (!parsed[0]!.checkPrivateKey(key)) throw new CaError("the key does not belong to the first certificate of the chain");
  if (!parsed[0]!.ca) throw new CaError("the first certificate of the chain is not a CA certificate (basicConstraints CA:TRUE)");
  for (let i = 0; i + 1 < parsed.length; i++)
    if (!parsed[i]!.checkIssued(parsed[i + 1]!) || !parsed[i]!.verify(parsed[i + 1]!.publicKey)) throw new CaError(`chain certificate ${i + 1} is not signed by certificate ${i + 2}`);
  const root = parsed[parsed.length - 1]!;
  if (!root.checkIssued(root)) throw new CaError("the last certificate of the chain must be the self-signed root");
  const now = Date.now();
  for (const [i, c] of parsed.entries()) if (new Date(c.validTo).getTime() < now) throw new CaError(`chain certificate ${i + 1} expired on ${c.validTo}`);
}

async function writeSecret(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
