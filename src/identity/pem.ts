// PEM helpers with no X.509 library behind them, so the sidecar loads @peculiar/x509 only when it issues a CSR.

export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Splits a PEM bundle into its certificates. */
export function splitCertificates(pem: string): string[] {
  const out = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return out.map((c) => `${c}\n`);
}
