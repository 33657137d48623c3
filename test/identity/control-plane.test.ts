// The control plane with a mesh CA: TLS by default, token roles enforced over it, certificate issuance mounted
// on it, sidecars authenticated by their workload certificate with least privilege, and a real sidecar that
// bootstraps its identity from it with a token file and the trust bundle.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFile, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { Agent, request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import { cli, runCli, startSidecar, type Proc } from "../support/processes.js";
import { freePorts } from "../support/ports.js";
import { makeToken, newDataDir } from "../support/control-plane.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { createCsr, generateP256 } from "../../src/identity/x509.js";

const TD = "mesh.test";
let dataDir: string;
let cp: Proc;
let url: string;
let bundle: string;
let trusted: Agent;
let tokens: { operator: string; viewer: string; payments: string };
let app: Echo;
const sidecars: Proc[] = [];

before(async () => {
  dataDir = await newDataDir();
  const init = await cli(["ca", "init", "--dir", path.join(dataDir, "ca"), "--trust-domain", TD]);
  assert.equal(init.code, 0, init.stderr);
  bundle = await readFile(path.join(dataDir, "ca", "trust-bundle.pem"), "utf8");
  tokens = {
    operator: await makeToken(dataDir, "operator"),
    viewer: await makeToken(dataDir, "viewer"),
    payments: await makeToken(dataDir, "sidecar", ["--service", "payments"]),
  };
  const [port] = await freePorts(1);
  url = `https://127.0.0.1:${port}`;
  cp = runCli(["control-plane", "--data", dataDir, "--listen", `127.0.0.1:${port}`, "--workload-cert-ttl", "1h"], { env: { OUTRIGGER_LOG_LEVEL: "warn" } });
  trusted = new Agent({ connect: { ca: bundle } });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await request(`${url}/healthz`, { dispatcher: trusted });
      await r.body.dump();
      if (r.statusCode === 200) break;
    } catch (err) {
      if (Date.now() > deadline || cp.child.exitCode !== null) throw new Error(`control plane not up over TLS: ${(err as Error).message} ${cp.stderr()}`);
    }
    await sleep(50);
  }
  app = await startEcho({ name: "app" });
});

after(async () => {
  await Promise.all(sidecars.map((s) => s.kill()));
  await cp?.kill();
  await trusted?.close();
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const csrFor = async (id: string) => {
  const key = await generateP256();
  return { key, csr: await createCsr(id, key) };
};
const call = async (method: "GET" | "POST", p: string, opts: { token?: string; body?: unknown; dispatcher?: Agent } = {}) => {
  const r = await request(`${url}${p}`, {
    method,
    dispatcher: opts.dispatcher ?? trusted,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body ? { "content-type": "application/json" } : {}) },
    ...(opts.body ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.body.text();
  return { status: r.statusCode, text, json: () => JSON.parse(text) as Record<string, unknown> };
};

test("with a mesh CA the API is TLS only: plain HTTP and clients that do not trust the CA fail", async () => {
  await assert.rejects(request(url.replace("https:", "http:") + "/healthz", { headersTimeout: 3_000, bodyTimeout: 3_000 }).then((r) => r.body.text()));
  await assert.rejects(request(`${url}/healthz`), /certificate|self-signed|issuer/i);
});

test("token roles: none -> 401, viewer reads but may not write or get certificates, operator writes", async () => {
  assert.equal((await call("GET", "/v1/status")).status, 401);
  assert.equal((await call("GET", "/v1/status", { token: tokens.viewer })).status, 200);
  const applyBody = { files: [{ name: "m.yaml", text: "apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec: { trustDomain: mesh.test }\n" }] };
  assert.equal((await call("POST", "/v1/apply", { token: tokens.viewer, body: applyBody })).status, 403);
  assert.ok([200, 201].includes((await call("POST", "/v1/apply", { token: tokens.operator, body: applyBody })).status));
  const { csr } = await csrFor(`spiffe://${TD}/ns/default/sa/payments`);
  assert.equal((await call("POST", "/v1/certificates", { token: tokens.viewer, body: { csr } })).status, 403);
  assert.equal((await call("GET", "/v1/status", { token: tokens.payments })).status, 403, "a sidecar token cannot read mesh status");
});

test("issuance on the control plane: a sidecar token gets only its own identity; its cert then authenticates it", async () => {
  const other = await csrFor(`spiffe://${TD}/ns/default/sa/orders`);
  const denied = await call("POST", "/v1/certificates", { token: tokens.payments, body: { csr: other.csr } });
  assert.equal(denied.status, 403);
  const own = await csrFor(`spiffe://${TD}/ns/default/sa/payments`);
  const ok = await call("POST", "/v1/certificates", { token: tokens.payments, body: { csr: own.csr } });
  assert.equal(ok.status, 200, ok.text);
  const issued = ok.json() as { certificate: string; notAfter: string; spiffeId: string };
  assert.equal(issued.spiffeId, `spiffe://${TD}/ns/default/sa/payments`);
  const life = new Date(issued.notAfter).getTime() - Date.now();
  assert.ok(life > 50 * 60e3 && life <= 3600e3 + 1000, "--workload-cert-ttl is honoured");

  // The workload certificate alone (no token) authenticates the sidecar for its own service only.
  const withCert = new Agent({ connect: { ca: bundle, key: own.key.pem, cert: issued.certificate } });
  try {
    const renew = await csrFor(`spiffe://${TD}/ns/default/sa/payments`);
    assert.equal((await call("POST", "/v1/certificates", { body: { csr: renew.csr }, dispatcher: withCert })).status, 200);
    const beat = (service: string) => call("POST", "/v1/heartbeat", { body: { service, instance: "i-1", endpoint: { address: "127.0.0.1:1" } }, dispatcher: withCert });
    assert.equal((await beat("payments")).status, 200);
    const foreign = await beat("orders");
    assert.equal(foreign.status, 403, "least privilege: another service's endpoints are off limits");
    assert.equal((await call("GET", "/v1/endpoints", { dispatcher: withCert })).status, 403, "and so is the registry of everyone");
  } finally {
    await withCert.close();
  }
  const audit = await call("GET", "/v1/audit", { token: tokens.operator });
  assert.match(audit.text, /certificate\.issue/);
});

test("a sidecar bootstraps its identity from the control plane over TLS (tokenFile + caFile)", async () => {
  const [inbound, admin] = await freePorts(2);
  const tokenFile = path.join(dataDir, "payments.token");
  await writeFile(tokenFile, tokens.payments + "\n", { mode: 0o600 });
  const file = path.join(dataDir, "payments.yaml");
  await writeFile(
    file,
    `apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec: { trustDomain: ${TD}, mtls: { mode: strict } }\n---\n` +
      `apiVersion: outrigger.dev/v1alpha1\nkind: Sidecar\nmetadata: { name: payments }\nspec: { service: payments, app: "127.0.0.1:${app.port}", inbound: "127.0.0.1:${inbound}", admin: "127.0.0.1:${admin}", identity: { issuer: "${url}", tokenFile: "${tokenFile}", caFile: "${path.join(dataDir, "ca", "trust-bundle.pem")}" } }\n`,
  );
  const s = await startSidecar(["-c", file], admin!);
  sidecars.push(s);
  const ready = (await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as { security: { ready: boolean; spiffeId: string } };
  assert.deepEqual([ready.security.ready, ready.security.spiffeId], [true, `spiffe://${TD}/ns/default/sa/payments`]);
  const config = await (await fetch(`http://127.0.0.1:${admin}/config`)).text();
  assert.ok(!config.includes(tokens.payments), "the token never appears in /config");
  assert.ok(!s.stdout().includes(tokens.payments) && !s.stderr().includes(tokens.payments), "nor in the logs");
});
