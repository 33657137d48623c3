// mTLS between real sidecar processes with certificates from the issuer: strict and permissive inbound, what is
// rejected (other CA, expired, wrong SPIFFE ID, no client cert, TLS 1.0/1.1, plaintext in strict), identity-based
// authorization, outbound peer-identity checks, and real `openssl s_client` against a strict listener.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startIssuer, type TestIssuer } from "../support/issuer.js";
import { rawExchange, statusOf } from "../support/raw.js";
import { hasBinary, requireBinary } from "../support/binaries.js";
import { CertificateAuthority } from "../../src/identity/ca.js";
import { createCsr, generateP256 } from "../../src/identity/x509.js";

const run = promisify(execFile);
const TD = "mesh.test";
let issuer: TestIssuer;
let app: Echo;
let dir: string;
let strict: { proc: Proc; inbound: number; admin: number };
let permissive: { proc: Proc; inbound: number; admin: number };
let client: { proc: Proc; outbound: number; admin: number };
let otherCa: CertificateAuthority;

const doc = (kind: string, name: string, spec: string) => `apiVersion: outrigger.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name} }\nspec: ${spec}\n---\n`;

async function sidecar(name: string, service: string, mode: string, extra = "", ports: { inbound?: number; outbound?: number; admin: number }) {
  const token = `tok-${name}`;
  const tokenFile = await issuer.tokenFile(token, { subject: name, role: "sidecar", service });
  const listeners = [ports.inbound ? `inbound: "127.0.0.1:${ports.inbound}"` : "", ports.outbound ? `outbound: "127.0.0.1:${ports.outbound}"` : ""].filter(Boolean).join(", ");
  const yaml =
    doc("Mesh", "mesh", `{ trustDomain: ${TD}, mtls: { mode: ${mode} } }`) +
    doc("Sidecar", name, `{ service: ${service}, app: "127.0.0.1:${app.port}", ${listeners}, admin: "127.0.0.1:${ports.admin}", identity: { issuer: "${issuer.url}", tokenFile: "${tokenFile}" } }`) +
    extra;
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, yaml);
  return startSidecar(["-c", file], ports.admin);
}

/** Client-side credentials for direct TLS tests: a CSR-issued cert for a SPIFFE ID (optionally expired). */
async function workloadCreds(ca: CertificateAuthority, id: string, ttlMs = 3600e3) {
  const key = await generateP256();
  const c = await ca.issueWorkload(await createCsr(id, key), id, ttlMs);
  return { key: key.pem, cert: c.certificate, ca: c.trustBundle.join("") };
}

function tlsConnect(port: number, o: tls.ConnectionOptions): Promise<{ socket: tls.TLSSocket; error?: undefined } | { error: NodeJS.ErrnoException; socket?: undefined }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"], ...o });
    socket.once("secureConnect", () => resolve({ socket }));
    socket.once("error", (error) => resolve({ error }));
  });
}

/** Sends one request over an established TLS socket; a server that rejects after the handshake shows as an error. */
function httpOver(socket: tls.TLSSocket, pathName = "/hello"): Promise<{ status?: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (d) => (text += d.toString()));
    socket.once("error", (e: NodeJS.ErrnoException) => resolve({ text, error: e.code ?? e.message }));
    socket.once("close", () => resolve({ text, ...(statusOf(text)[0] ? { status: statusOf(text)[0] } : { error: "closed" }) }));
    socket.write(`GET ${pathName} HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n`);
  });
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "mtls-"));
  issuer = await startIssuer({ trustDomain: TD });
  otherCa = await CertificateAuthority.init(path.join(dir, "other-ca"), { trustDomain: TD });
  app = await startEcho({ name: "payments-app" });
  const [s1, s2, p1, p2, c1, c2] = await freePorts(6);
  const authz = doc("AuthorizationPolicy", "only-checkout", `{ rules: [{ identities: [ns/default/sa/checkout] }, { paths: [/open] }] }`);
  strict = { inbound: s1!, admin: s2!, proc: undefined as never };
  permissive = { inbound: p1!, admin: p2!, proc: undefined as never };
  client = { outbound: c1!, admin: c2!, proc: undefined as never };
  [strict.proc, permissive.proc] = await Promise.all([
    sidecar("payments", "payments", "strict", authz, { inbound: strict.inbound, admin: strict.admin }),
    sidecar("payments-p", "payments", "permissive", "", { inbound: permissive.inbound, admin: permissive.admin }),
  ]);
  const backends =
    doc("Backend", "payments", `{ endpoints: [{ address: "127.0.0.1:${strict.inbound}" }] }`) +
    doc("Backend", "impostor", `{ endpoints: [{ address: "127.0.0.1:${permissive.inbound}" }], tls: { mode: mutual, identities: [ns/default/sa/impostor] } }`) +
    doc("Backend", "legacy", `{ endpoints: [{ address: "127.0.0.1:${app.port}" }], tls: { mode: disable } }`);
  client.proc = await sidecar("checkout", "checkout", "strict", backends, { outbound: client.outbound, admin: client.admin });
});

after(async () => {
  await Promise.all([strict?.proc?.kill(), permissive?.proc?.kill(), client?.proc?.kill()]);
  await app?.close();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

test("sidecars get workload certificates from the issuer with their own SPIFFE IDs", async () => {
  const r = (await (await fetch(`http://127.0.0.1:${strict.admin}/readyz`)).json()) as { security: { spiffeId: string; ready: boolean; notAfter: string } };
  assert.equal(r.security.spiffeId, `spiffe://${TD}/ns/default/sa/payments`);
  assert.equal(r.security.ready, true);
  const life = new Date(r.security.notAfter).getTime() - Date.now();
  assert.ok(life > 23 * 3600e3, "24 h default lifetime");
  const { socket } = await tlsConnect(strict.inbound, await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/checkout`));
  assert.ok(socket);
  assert.equal(socket.getPeerCertificate().subjectaltname, `URI:spiffe://${TD}/ns/default/sa/payments`);
  assert.equal(socket.alpnProtocol, "http/1.1");
  socket.destroy();
});

test("outbound mTLS pair: checkout -> payments (strict) reaches the app with checkout's identity authorized", async () => {
  const r = await request(`http://127.0.0.1:${client.outbound}/pay`, { headers: { host: "payments" } });
  assert.equal(r.statusCode, 200, await r.body.text().catch(() => ""));
  assert.equal(app.requests.at(-1)?.url, "/pay");
  const plainBackend = await request(`http://127.0.0.1:${client.outbound}/plain`, { headers: { host: "legacy" } });
  assert.equal(plainBackend.statusCode, 200, "tls.mode disable backends stay plaintext in a strict mesh");
  await plainBackend.body.dump();
});

test("outbound refuses a peer whose SPIFFE ID the target service may not present", async () => {
  const r = await request(`http://127.0.0.1:${client.outbound}/x`, { headers: { host: "impostor" } });
  assert.equal(r.statusCode, 502);
  assert.equal(r.headers["x-outrigger-error"], "UPSTREAM_IDENTITY_MISMATCH");
  await r.body.dump();
});

test("strict inbound: identity reaches authorization; another caller identity is denied", async () => {
  const ok = await tlsConnect(strict.inbound, await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/checkout`));
  assert.equal((await httpOver(ok.socket!)).status, 200);
  const other = await tlsConnect(strict.inbound, await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/reports`));
  const res = await httpOver(other.socket!);
  assert.equal(res.status, 403);
  assert.match(res.text, /AUTHZ_DENIED/);
  const open = await tlsConnect(strict.inbound, await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/reports`));
  assert.equal((await httpOver(open.socket!, "/open")).status, 200);
});

test("strict inbound rejects: another CA, an expired cert, a foreign trust domain, no SPIFFE ID, no client cert", async () => {
  const id = `spiffe://${TD}/ns/default/sa/checkout`;
  const cases: [string, tls.ConnectionOptions][] = [
    ["client cert from another CA", await workloadCreds(otherCa, id)],
    ["expired client cert", await workloadCreds(issuer.ca, id, -5_000)],
    ["SPIFFE ID of another trust domain", await (async () => {
      const s = await issuer.ca.issueServer({ spiffeId: "spiffe://evil.test/ns/default/sa/checkout" });
      return { key: s.key, cert: s.certificate };
    })()],
    ["certificate without a SPIFFE ID", await (async () => {
      const s = await issuer.ca.issueServer({ dnsNames: ["checkout"] });
      return { key: s.key, cert: s.certificate };
    })()],
    ["no client certificate", {}],
  ];
  const seen = app.requests.length;
  for (const [label, creds] of cases) {
    const c = await tlsConnect(strict.inbound, creds);
    const res = c.socket ? await httpOver(c.socket) : { error: c.error!.code ?? c.error!.message, text: "" };
    assert.equal(res.status, undefined, `${label}: got a response ${res.text.slice(0, 60)}`);
    assert.ok(res.error, label);
  }
  assert.equal(app.requests.length, seen, "nothing reached the app");
});

test("TLS 1.0 and 1.1 are refused by the server", async () => {
  const creds = await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/checkout`);
  for (const v of ["TLSv1", "TLSv1.1"] as const) {
    const c = await tlsConnect(strict.inbound, { ...creds, minVersion: v, maxVersion: v, ciphers: "DEFAULT@SECLEVEL=0" });
    assert.ok(c.error, `${v} handshake must fail`);
    assert.match(c.error.code ?? c.error.message, /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION|alert protocol version/i, `${v}: ${c.error.code} ${c.error.message}`);
  }
  const ok = await tlsConnect(strict.inbound, { ...creds, minVersion: "TLSv1.2", maxVersion: "TLSv1.2" });
  assert.ok(ok.socket, "TLS 1.2 works");
  assert.match(ok.socket.getCipher().name, /GCM|CHACHA20/);
  ok.socket.destroy();
});

test("plaintext: refused with 403 MTLS_REQUIRED in strict mode, accepted in permissive mode on the same port as mTLS", async () => {
  const s = await rawExchange(strict.inbound, "GET /plain HTTP/1.1\r\nHost: payments\r\n\r\n");
  assert.deepEqual(statusOf(s.text), [403]);
  assert.match(s.text, /MTLS_REQUIRED/);
  assert.ok(s.closed);
  const p = await request(`http://127.0.0.1:${permissive.inbound}/plain-ok`);
  assert.equal(p.statusCode, 200);
  await p.body.dump();
  const m = await tlsConnect(permissive.inbound, await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/checkout`));
  assert.equal((await httpOver(m.socket!, "/tls-ok")).status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${permissive.admin}/metrics`)).text();
  assert.match(metrics, /outrigger_inbound_connections_total\{[^}]*result="plaintext"[^}]*\} [1-9]/);
  assert.match(metrics, /outrigger_inbound_connections_total\{[^}]*result="mtls"[^}]*\} [1-9]/);
});

test("real openssl s_client against the strict listener: verified mTLS, ALPN http/1.1; refused without a cert or with TLS 1.1", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const creds = await workloadCreds(issuer.ca, `spiffe://${TD}/ns/default/sa/checkout`);
  await writeFile(path.join(dir, "c.key"), creds.key);
  await writeFile(path.join(dir, "c.crt"), creds.cert);
  await writeFile(path.join(dir, "ca.pem"), creds.ca);
  const sClient = (args: string[], input: string) =>
    new Promise<{ out: string; code: number | null }>((resolve) => {
      const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${strict.inbound}`, "-CAfile", path.join(dir, "ca.pem"), "-verify_return_error", "-ign_eof", ...args], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (out += d));
      const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
      p.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ out, code });
      });
      p.stdin.end(input);
    });
  const ok = await sClient(["-cert", path.join(dir, "c.crt"), "-key", path.join(dir, "c.key"), "-alpn", "http/1.1"], "GET /hello HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n");
  assert.match(ok.out, /Verify return code: 0 \(ok\)/);
  assert.match(ok.out, /ALPN protocol: http\/1.1/);
  assert.match(ok.out, /HTTP\/1.1 200/);
  const noCert = await sClient([], "GET /hello HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n");
  assert.doesNotMatch(noCert.out, /HTTP\/1.1 200/);
  assert.match(noCert.out, /alert|certificate required|handshake failure/i);
  const old = await sClient(["-cert", path.join(dir, "c.crt"), "-key", path.join(dir, "c.key"), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "");
  assert.notEqual(old.code, 0);
  assert.match(old.out, /alert protocol version/, "the server refuses TLS 1.1");
  assert.match(old.out, /Cipher is \(NONE\)/);
  if (hasBinary("testssl.sh") || hasBinary("testssl")) {
    const bin = hasBinary("testssl.sh") ? "testssl.sh" : "testssl";
    const r = await run(bin, ["--quiet", "--color", "0", "-p", `127.0.0.1:${strict.inbound}`], { timeout: 60_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }));
    assert.match(r.stdout, /TLS 1\s+not offered/);
    assert.match(r.stdout, /TLS 1\.1\s+not offered/);
    assert.match(r.stdout, /SSLv3\s+not offered/);
  } else process.stderr.write("testssl.sh not installed: skipped its protocol scan (openssl s_client covered it)\n");
});

test("the issuer refuses a token claiming another service's identity", async () => {
  await issuer.tokenFile("tok-evil", { subject: "evil", role: "sidecar", service: "reports" });
  const key = await generateP256();
  const r = await request(`${issuer.url}/v1/certificates`, {
    method: "POST",
    headers: { authorization: "Bearer tok-evil", "content-type": "application/json" },
    body: JSON.stringify({ csr: await createCsr(`spiffe://${TD}/ns/default/sa/payments`, key) }),
  });
  assert.equal(r.statusCode, 403);
  assert.match(await r.body.text(), /may claim only spiffe:\/\/mesh.test\/ns\/default\/sa\/reports/);
  const anon = await request(`${issuer.url}/v1/certificates`, { method: "POST", body: JSON.stringify({ csr: "x" }) });
  assert.equal(anon.statusCode, 401);
  await anon.body.dump();
});
