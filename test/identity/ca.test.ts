// The mesh CA: `outrigger ca init` (root, or an operator's intermediate made by real openssl), file modes, and
// certificates that real openssl verifies; CSRs that must be refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, stat, readFile, writeFile } from "node:fs/promises";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { cli } from "../support/processes.js";
import { requireBinary } from "../support/binaries.js";
import { CertificateAuthority, CA_FILES } from "../../src/identity/ca.js";
import { createCsr, generateP256 } from "../../src/identity/x509.js";

const run = promisify(execFile);
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ca-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("ca init creates a root CA with 0600 files in a 0700 directory, and refuses to overwrite it", async () => {
  const caDir = path.join(dir, "root");
  const r = await cli(["ca", "init", "--dir", caDir, "--trust-domain", "mesh.test", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { trustDomain: string; kind: string };
  assert.deepEqual([info.trustDomain, info.kind], ["mesh.test", "root"]);
  assert.equal((await stat(caDir)).mode & 0o777, 0o700);
  for (const f of Object.values(CA_FILES)) assert.equal((await stat(path.join(caDir, f))).mode & 0o777, 0o600, f);
  const again = await cli(["ca", "init", "--dir", caDir, "--trust-domain", "mesh.test"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists; pass --force/);
  const bad = await cli(["ca", "init", "--dir", path.join(dir, "bad"), "--trust-domain", "Not A Domain"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid trust domain/);
});

test("a workload certificate from a CSR: P-256, SPIFFE URI SAN, 24 h default, verified by real openssl", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const caDir = path.join(dir, "root");
  const ca = await CertificateAuthority.load(caDir);
  const key = await generateP256();
  const id = "spiffe://mesh.test/ns/shop/sa/payments";
  const issued = await ca.issueWorkload(await createCsr(id, key), id);
  const leaf = new X509Certificate(issued.certificate);
  assert.equal(leaf.subjectAltName, `URI:${id}`);
  const life = new Date(leaf.validTo).getTime() - Date.now();
  assert.ok(life > 23.9 * 3600e3 && life <= 24 * 3600e3 + 1000, `lifetime ${life}`);
  assert.ok(leaf.checkPrivateKey((await import("node:crypto")).createPrivateKey(key.pem)), "issued for the sidecar's own key");
  const leafFile = path.join(dir, "leaf.pem");
  await writeFile(leafFile, issued.certificate);
  const v = await run("openssl", ["verify", "-purpose", "sslclient", "-CAfile", path.join(caDir, CA_FILES.bundle), leafFile]);
  assert.match(v.stdout, /OK/);
  await run("openssl", ["verify", "-purpose", "sslserver", "-CAfile", path.join(caDir, CA_FILES.bundle), leafFile]);
  const text = (await run("openssl", ["x509", "-in", leafFile, "-noout", "-text"])).stdout;
  assert.match(text, /ASN1 OID: prime256v1/);
  assert.match(text, /CA:FALSE/);
});

test("CSRs the issuer must refuse: another identity, a tampered signature, an RSA key", async (t) => {
  const ca = await CertificateAuthority.load(path.join(dir, "root"));
  const key = await generateP256();
  const mine = "spiffe://mesh.test/ns/shop/sa/payments";
  await assert.rejects(ca.issueWorkload(await createCsr("spiffe://mesh.test/ns/shop/sa/admin", key), mine), /may claim only/);
  await assert.rejects(ca.issueWorkload(await createCsr(mine, key), "spiffe://other.test/ns/shop/sa/payments"), /not a workload ID in trust domain mesh.test/);
  const csr = await createCsr(mine, key);
  const body = csr.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(body, "base64");
  der[der.length - 5]! ^= 0xff; // flip a signature byte
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(ca.issueWorkload(tampered, mine), /signature|CSR/);
  await assert.rejects(ca.issueWorkload("not a csr", mine), /PKCS#10/);
  if (!requireBinary(t, "openssl")) return;
  const rsaKey = path.join(dir, "rsa.key");
  await run("openssl", ["genrsa", "-out", rsaKey, "2048"]);
  const rsaCsr = (await run("openssl", ["req", "-new", "-key", rsaKey, "-subj", "/CN=x"])).stdout;
  await assert.rejects(ca.issueWorkload(rsaCsr, mine), /ECDSA P-256/);
});

test("ca init adopts an intermediate made by openssl; leaves chain to the openssl root", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const o = path.join(dir, "ossl");
  await run("mkdir", ["-p", o]);
  const sh = (cmd: string) => run("sh", ["-c", cmd], { cwd: o });
  await sh("openssl ecparam -name prime256v1 -genkey -noout -out root.key");
  await sh("openssl req -x509 -new -key root.key -subj '/CN=Corp Root' -days 30 -out root.crt -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'");
  await sh("openssl ecparam -name prime256v1 -genkey -noout -out int.key");
  await sh("openssl req -new -key int.key -subj '/CN=Mesh Intermediate' -out int.csr");
  await writeFile(path.join(o, "ext.cnf"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
  await sh("openssl x509 -req -in int.csr -CA root.crt -CAkey root.key -CAcreateserial -days 20 -extfile ext.cnf -out int.crt");
  await sh("cat int.crt root.crt > chain.pem");

  const caDir = path.join(dir, "int");
  const r = await cli(["ca", "init", "--dir", caDir, "--trust-domain", "corp.test", "--key", path.join(o, "int.key"), "--chain", path.join(o, "chain.pem"), "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { kind: string }).kind, "intermediate");
  const ca = await CertificateAuthority.load(caDir);
  const id = "spiffe://corp.test/ns/a/sa/b";
  const issued = await ca.issueWorkload(await createCsr(id, await generateP256()), id, 3_600_000);
  assert.equal(issued.chain.length, 1, "the intermediate is sent after the leaf");
  await writeFile(path.join(o, "leaf.pem"), issued.certificate);
  await writeFile(path.join(o, "untrusted.pem"), issued.chain.join(""));
  const v = await sh("openssl verify -CAfile root.crt -untrusted untrusted.pem leaf.pem");
  assert.match(v.stdout, /leaf.pem: OK/);
  assert.equal(await readFile(path.join(caDir, CA_FILES.bundle), "utf8"), await readFile(path.join(o, "root.crt"), "utf8"));

  const wrong = await cli(["ca", "init", "--dir", path.join(dir, "int2"), "--trust-domain", "corp.test", "--key", path.join(o, "root.key"), "--chain", path.join(o, "chain.pem")]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /does not belong to the first certificate/);
  const half = await cli(["ca", "init", "--dir", path.join(dir, "int3"), "--trust-domain", "corp.test", "--key", path.join(o, "int.key")]);
  assert.match(half.stderr, /needs both its key/);
});

test("ca issue writes a server certificate for the control plane that openssl accepts for its DNS and IP", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const out = path.join(dir, "cp");
  const r = await cli(["ca", "issue", "--dir", path.join(dir, "root"), "--out", out, "--dns", "localhost", "--ip", "127.0.0.1", "--ttl", "48h"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await stat(path.join(out, "tls.key"))).mode & 0o777, 0o600);
  const v = await run("openssl", ["verify", "-CAfile", path.join(out, "ca.crt"), "-verify_ip", "127.0.0.1", "-verify_hostname", "localhost", path.join(out, "tls.crt")]);
  assert.match(v.stdout, /OK/);
  const bad = await cli(["ca", "issue", "--dir", path.join(dir, "root"), "--out", out]);
  assert.equal(bad.code, 2);
});
