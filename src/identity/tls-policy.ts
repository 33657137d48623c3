// The mesh's TLS parameters, in one place: TLS 1.2 minimum, AEAD suites with forward secrecy only, ALPN http/1.1.
// TLS 1.3 suites are all AEAD and stay at OpenSSL's defaults; this list governs TLS 1.2.

export const TLS_MIN_VERSION = "TLSv1.2" as const;

/** TLS 1.2: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (no CBC, no RSA key exchange, no SHA-1 MACs). */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export const ALPN = ["http/1.1"];

export const TLS_POLICY = {
  minVersion: TLS_MIN_VERSION,
  ciphers: TLS12_CIPHERS,
  ecdhCurve: "X25519:P-256:P-384",
  honorCipherOrder: true,
} as const;
