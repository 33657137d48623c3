// X.509 building and signing for the mesh CA and workloads: @peculiar/x509 over node's WebCrypto.
// Why a library: DER encoding of certificates, CSRs and their extensions is what it maintains; node:crypto parses
// X.509 but cannot build or sign it, and node-forge (the other candidate) signs with RSA only, not ECDSA P-256.
// Keys come from node:crypto; node's X509Certificate does chain and key checks.
import "reflect-metadata"; // @peculiar/x509 resolves its ASN.1 parsers through tsyringe, which needs this polyfill
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { splitCertificates, toPem } from "./pem.js";

x509.cryptoProvider.set(webcrypto as never);
const subtle = webcrypto.subtle;

export { x509 };

export type SigningAlgorithm = { name: "ECDSA"; hash: "SHA-256" | "SHA-384" } | { name: "RSASSA-PKCS1-v1_5"; hash: "SHA-256" };

export interface SigningKey {
  privateKey: webcrypto.CryptoKey;
  algorithm: SigningAlgorithm;
}

export interface WorkloadKey {
  /** PKCS#8 PEM, for tls.createSecureContext; held in memory only. */
  pem: string;
  keys: webcrypto.CryptoKeyPair;
}

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

/** A fresh ECDSA P-256 key pair (extractable so node's TLS can use it as PEM). */
export async function generateP256(): Promise<WorkloadKey> {
  const keys = (await subtle.generateKey(P256, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const der = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  return { pem: toPem(der, "PRIVATE KEY"), keys };
}

/** Imports a PEM private key (ECDSA P-256/P-384 or RSA) for signing certificates. */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  const ko = createPrivateKey(pem);
  const der = ko.export({ type: "pkcs8", format: "der" });
  if (ko.asymmetricKeyType === "ec") {
    const curve = ko.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : undefined;
    if (!namedCurve) throw new Error(`unsupported EC curve "${curve}" (use P-256 or P-384)`);
    const privateKey = await subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve }, false, ["sign"]);
    return { privateKey, algorithm: { name: "ECDSA", hash: namedCurve === "P-256" ? "SHA-256" : "SHA-384" } };
  }
  if (ko.asymmetricKeyType === "rsa") {
    const privateKey = await subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    return { privateKey, algorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } };
  }
  throw new Error(`unsupported key type "${ko.asymmetricKeyType}" (use ECDSA P-256/P-384 or RSA)`);
}

export { splitCertificates, toPem };

export const randomSerial = (): string => {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive INTEGER
  return b.toString("hex");
};

export interface IssueParams {
  issuer: X509Certificate;
  issuerKey: SigningKey;
  publicKey: webcrypto.CryptoKey | x509.PublicKey;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** URIs (SPIFFE IDs), DNS names and IPs for the SAN extension. */
  uris?: string[];
  dnsNames?: string[];
  ips?: string[];
  ca?: { pathLength?: number };
}

/** Signs a certificate: a CA (keyCertSign) or an end entity for both TLS client and server (an X509-SVID). */
export async function signCertificate(p: IssueParams): Promise<X509Certificate> {
  const names: x509.JsonGeneralName[] = [
    ...(p.uris ?? []).map((value) => ({ type: "url" as const, value })),
    ...(p.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(p.ips ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const issuerCert = new x509.X509Certificate(p.issuer.raw);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(Boolean(p.ca), p.ca?.pathLength, true),
    p.ca
      ? new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)
      : new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement, true),
    await x509.SubjectKeyIdentifierExtension.create(p.publicKey as never),
    await x509.AuthorityKeyIdentifierExtension.create(issuerCert as never),
  ];
  if (!p.ca) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]));
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, p.subject === ""));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: p.subject,
    issuer: issuerCert.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    signingAlgorithm: p.issuerKey.algorithm,
    publicKey: p.publicKey as never,
    signingKey: p.issuerKey.privateKey as never,
    extensions,
  });
  return new X509Certificate(Buffer.from(cert.rawData));
}

/** A self-signed root CA certificate for a new key. */
export async function selfSignedRoot(subject: string, keys: webcrypto.CryptoKeyPair, days: number): Promise<X509Certificate> {
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * 86_400_000),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as never,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return new X509Certificate(Buffer.from(cert.rawData));
}

export async function generateCaKey(): Promise<WorkloadKey> {
  return generateP256();
}

/** A PKCS#10 CSR for a SPIFFE ID, signed with the workload's own key. */
export async function createCsr(spiffe: string, key: WorkloadKey): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "O=outrigger",
    keys: key.keys as never,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as never,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffe }])],
  });
  return csr.toString("pem");
}

export interface ParsedCsr {
  publicKey: x509.PublicKey;
  uris: string[];
  keyAlgorithm: string;
}

/** Parses and verifies a CSR (its self-signature proves possession of the key). Throws with a reason. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new Error(`not a PEM PKCS#10 certificate request (${(err as Error).message})`);
  }
  if (!(await csr.verify())) throw new Error("the CSR's signature does not verify");
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== "ECDSA" || alg.namedCurve !== "P-256") throw new Error(`workload keys must be ECDSA P-256 (got ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ""})`);
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === "url").map((n) => n.value) : [];
  return { publicKey: csr.publicKey, uris, keyAlgorithm: "ECDSA P-256" };
}
