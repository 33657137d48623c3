// When the control plane is gone: keep-last keeps every request succeeding (also across a sidecar restart,
// from the last-known-good file); fail-closed answers outbound 503 CONTROL_PLANE_UNAVAILABLE after the grace
// period while health and admin keep answering, and recovers when the control plane returns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "undici";
import { apiToken, applyResources, eventually, readyDetail, resource, startControlPlane } from "../support/control-plane.js";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho } from "../support/upstreams.js";

const call = async (port: number, host = "payments") => {
  const r = await request(`http://127.0.0.1:${port}/x`, { headers: { host } });
  const text = await r.body.text();
  return { status: r.statusCode, code: r.headers["x-outrigger-error"], text };
};

async function meshWithSidecar(t: import("node:test").TestContext, mesh?: Record<string, unknown>) {
  const cp = await startControlPlane();
  const up = await startEcho({ name: "payments" });
  const app = await startEcho({ name: "app" });
  const [inbound, outbound, admin] = await freePorts(3);
  const procs: Proc[] = [];
  t.after(async () => {
    for (const p of procs) await p.kill("SIGKILL");
    await cp.proc.kill("SIGKILL");
    await Promise.all([up.close(), app.close()]);
  });
  await applyResources(cp, [
    resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${up.port}` }] }),
    resource("Route", "payments", { hosts: ["payments"], rules: [{ backendRefs: [{ name: "payments" }] }] }),
    ...(mesh ? [resource("Mesh", "mesh", mesh)] : []),
  ]);
  const tokenFile = join(cp.dataDir, "checkout.token");
  await writeFile(tokenFile, await apiToken(cp, "sidecar", "checkout"));
  const args = ["--service", "checkout", "--app", `127.0.0.1:${app.port}`, "--inbound", String(inbound), "--outbound", String(outbound), "--control-plane", cp.url, "--token-file", tokenFile, "--last-known-good", join(cp.dataDir, "lkg.json"), "--instance", "checkout-1"];
  const start = async () => {
    const p = await startSidecar(args, admin!);
    procs.push(p);
    return p;
  };
  return { cp, inbound: inbound!, outbound: outbound!, admin: admin!, start };
}

test("keep-last: the control plane killed under load loses no request; a restarted sidecar serves the last-known-good config", async (t) => {
  const m = await meshWithSidecar(t);
  const sidecar = await m.start();
  assert.equal((await call(m.outbound)).status, 200);

  const statuses = new Map<number, number>();
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const r = await call(m.outbound);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await new Promise((r) => setTimeout(r, 700));
  await m.cp.proc.kill("SIGKILL");
  await new Promise((r) => setTimeout(r, 1_500));
  stop = true;
  await Promise.all(workers);
  assert.deepEqual([...statuses.keys()], [200], `every request succeeded (${JSON.stringify([...statuses])})`);
  assert.ok(statuses.get(200)! > 40, `a real load ran (${statuses.get(200)} requests)`);

  const ready = await eventually("readyz to report the loss", async () => {
    const r = await readyDetail(m.admin);
    return r.body.controlPlane.connected === false && r;
  });
  assert.equal(ready.status, 200, "keep-last stays ready");
  assert.equal(ready.body.controlPlane.mode, "keep-last");
  assert.ok(ready.body.controlPlane.stalenessSeconds >= 0);
  const metrics = await (await fetch(`http://127.0.0.1:${m.admin}/metrics`)).text();
  assert.match(metrics, /outrigger_control_plane_connected\{[^}]*\} 0/);

  // Restart the sidecar while the control plane is still down: the mesh config comes from disk.
  await sidecar.kill("SIGTERM");
  await m.start();
  const r = await readyDetail(m.admin);
  assert.equal(r.status, 200);
  assert.equal(r.body.controlPlane.source, "last-known-good");
  assert.equal(r.body.controlPlane.configVersion, 1);
  const res = await call(m.outbound);
  assert.equal(res.status, 200, res.text);
  assert.equal(JSON.parse(res.text).name, "payments");
});

test("fail-closed: outbound 503 CONTROL_PLANE_UNAVAILABLE after the grace period; health and admin keep answering; recovers", async (t) => {
  const m = await meshWithSidecar(t, { controlPlaneLoss: "fail-closed", controlPlaneGracePeriod: "2s" });
  await m.start();
  assert.equal((await call(m.outbound)).status, 200);
  const killedAt = Date.now();
  await m.cp.proc.kill("SIGKILL");
  const early = await call(m.outbound);
  if (Date.now() - killedAt < 1_500) assert.equal(early.status, 200, "within the grace period traffic still flows");

  const closed = await eventually("outbound to fail closed", async () => {
    const r = await call(m.outbound);
    return r.status === 503 && r;
  });
  assert.ok(Date.now() - killedAt >= 2_000, "not before the grace period");
  assert.equal(closed.code, "CONTROL_PLANE_UNAVAILABLE");
  assert.equal(JSON.parse(closed.text).error.code, "CONTROL_PLANE_UNAVAILABLE");
  assert.equal((await fetch(`http://127.0.0.1:${m.admin}/healthz`)).status, 200);
  const ready = await readyDetail(m.admin);
  assert.equal(ready.status, 503);
  assert.equal(ready.body.controlPlane.failingClosed, true);
  assert.ok(ready.body.controlPlane.stalenessSeconds >= 2);
  const metrics = await fetch(`http://127.0.0.1:${m.admin}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /outrigger_control_plane_staleness_seconds\{[^}]*\} [2-9]/);
  // Inbound traffic (to the local app) is not the mesh's outbound path and keeps flowing.
  assert.equal((await request(`http://127.0.0.1:${m.inbound}/`)).statusCode, 200);

  // The control plane returns on the same address: the sidecar reconnects and traffic resumes.
  const back = await startControlPlane({ dataDir: m.cp.dataDir, port: m.cp.port, operator: m.cp.operator });
  t.after(() => back.proc.kill("SIGKILL"));
  await eventually("outbound to recover", async () => (await call(m.outbound)).status === 200, 15_000);
  assert.equal((await readyDetail(m.admin)).status, 200);
});
