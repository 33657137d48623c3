// Certificate rotation under steady load: 3-second workload certificates renewed at 2/3 of their lifetime on
// both sides of an mTLS pair, idle connections closed every second so new handshakes use the new certificates,
// and not one request may fail.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startIssuer, type TestIssuer } from "../support/issuer.js";

const TD = "mesh.test";
let issuer: TestIssuer;
let app: Echo;
let dir: string;
const procs: Proc[] = [];
let ports: number[];

const doc = (kind: string, name: string, spec: string) => `apiVersion: outrigger.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name} }\nspec: ${spec}\n---\n`;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rotation-"));
  issuer = await startIssuer({ trustDomain: TD, ttlMs: 3_000 });
  app = await startEcho({ name: "payments-app" });
  ports = await freePorts(4);
  const [inbound, adminP, outbound, adminC] = ports as [number, number, number, number];
  const mesh = doc("Mesh", "mesh", `{ trustDomain: ${TD}, mtls: { mode: strict } }`);
  const pTok = await issuer.tokenFile("tok-p", { subject: "p", role: "sidecar", service: "payments" });
  const cTok = await issuer.tokenFile("tok-c", { subject: "c", role: "sidecar", service: "checkout" });
  await writeFile(path.join(dir, "p.yaml"), mesh + doc("Sidecar", "payments", `{ service: payments, app: "127.0.0.1:${app.port}", inbound: "127.0.0.1:${inbound}", admin: "127.0.0.1:${adminP}", limits: { idleTimeout: 1s }, identity: { issuer: "${issuer.url}", tokenFile: "${pTok}" } }`));
  await writeFile(path.join(dir, "c.yaml"), mesh + doc("Sidecar", "checkout", `{ service: checkout, app: "127.0.0.1:${app.port}", outbound: "127.0.0.1:${outbound}", admin: "127.0.0.1:${adminC}", identity: { issuer: "${issuer.url}", tokenFile: "${cTok}" } }`) + doc("Backend", "payments", `{ endpoints: [{ address: "127.0.0.1:${inbound}" }] }`));
  procs.push(await startSidecar(["-c", path.join(dir, "p.yaml")], adminP), await startSidecar(["-c", path.join(dir, "c.yaml")], adminC));
});

after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await app?.close();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

const security = async (admin: number) => ((await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as { security: { serial: string; renewals: number; failures: number } }).security;

test("rotation under steady load: 0 failed requests while both sides renew several times", async () => {
  const [, adminP, outbound, adminC] = ports as [number, number, number, number];
  const firstP = await security(adminP);
  const firstC = await security(adminC);
  const agent = new Agent({ connections: 8, keepAliveTimeout: 500 });
  const failures: string[] = [];
  let ok = 0;
  const deadline = Date.now() + 8_000;
  const worker = async () => {
    for (let i = 0; i < 2_000 && Date.now() < deadline; i++) {
      try {
        const r = await request(`http://127.0.0.1:${outbound}/pay/${i}`, { headers: { host: "payments" }, dispatcher: agent });
        await r.body.text();
        if (r.statusCode === 200) ok++;
        else failures.push(`${r.statusCode} ${r.headers["x-outrigger-error"] ?? ""}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      // Bursts with pauses longer than the payments sidecar's 1 s idle timeout: connections close and reopen,
      // so handshakes happen with the rotated certificates, not only on long-lived sockets.
      if (i % 50 === 49) await sleep(1_200);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  await agent.close();
  const lastP = await security(adminP);
  const lastC = await security(adminC);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed of ${ok + failures.length}`);
  assert.ok(ok >= 200, `steady load actually ran (${ok} requests)`);
  assert.ok(lastP.renewals - firstP.renewals >= 2, `payments renewed ${lastP.renewals - firstP.renewals} times`);
  assert.ok(lastC.renewals - firstC.renewals >= 2, `checkout renewed ${lastC.renewals - firstC.renewals} times`);
  assert.notEqual(lastP.serial, firstP.serial);
  assert.equal(lastP.failures + lastC.failures, 0);
  const metrics = await (await fetch(`http://127.0.0.1:${adminP}/metrics`)).text();
  const mtls = Number(/outrigger_inbound_connections_total\{[^}]*result="mtls"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  assert.ok(mtls >= 3, `new mTLS handshakes happened during rotation (${mtls})`);
});
