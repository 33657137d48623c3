// Push on real processes: a sidecar picks up a change and ACKs it; a change it cannot compile is NACKed
// (visible in `status`) while it keeps serving the previous version; a rollback is applied again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "undici";
import { apiGet, apiToken, applyResources, eventually, readyDetail, resource, startControlPlane } from "../support/control-plane.js";
import { freePorts } from "../support/ports.js";
import { startSidecar } from "../support/processes.js";
import { startEcho } from "../support/upstreams.js";

const call = async (port: number, host: string) => {
  const r = await request(`http://127.0.0.1:${port}/x`, { headers: { host } });
  const text = await r.body.text();
  return { status: r.statusCode, name: r.statusCode === 200 ? (JSON.parse(text) as { name: string }).name : undefined, code: r.headers["x-outrigger-error"] };
};

test("a sidecar applies pushed versions and ACKs; a bad one is NACKed, visible in status, and the old one keeps serving", async (t) => {
  const cp = await startControlPlane();
  const a = await startEcho({ name: "a" });
  const b = await startEcho({ name: "b" });
  const app = await startEcho({ name: "app" });
  const [inbound, outbound, admin] = await freePorts(3);
  t.after(async () => {
    await sidecar?.kill();
    await cp.stop();
    await Promise.all([a.close(), b.close(), app.close()]);
  });
  const route = resource("Route", "payments", { hosts: ["payments"], rules: [{ backendRefs: [{ name: "payments" }] }] });
  await applyResources(cp, [resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${a.port}` }] }), route]);
  const tokenFile = join(cp.dataDir, "checkout.token");
  await writeFile(tokenFile, await apiToken(cp, "sidecar", "checkout"));
  const lkg = join(cp.dataDir, "checkout.lkg.json");
  const sidecar = await startSidecar(
    ["--service", "checkout", "--app", `127.0.0.1:${app.port}`, "--inbound", String(inbound), "--outbound", String(outbound), "--control-plane", cp.url, "--token-file", tokenFile, "--last-known-good", lkg, "--instance", "checkout-1"],
    admin!,
  );
  // Started with version 1 already (startup waits briefly for the first sync).
  assert.equal((await readyDetail(admin!)).body.controlPlane.configVersion, 1);
  assert.equal((await call(outbound!, "payments")).name, "a");

  await applyResources(cp, [resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${b.port}` }] })]);
  await eventually("traffic to move to b", async () => (await call(outbound!, "payments")).name === "b");
  const acked = await eventually("status to show version 2 acked", async () => {
    const row = (await apiGet(cp, "/v1/status")).sidecars.find((s: { instance: string }) => s.instance === "checkout-1");
    return row?.ackedVersion === 2 && row;
  });
  assert.equal(acked.service, "checkout");
  assert.equal(acked.stale, false);
  assert.equal(acked.address, `127.0.0.1:${inbound}`);

  // Valid mesh-wide, but on this sidecar the endpoint is its own inbound listener: it must refuse (loop).
  await applyResources(cp, [resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${b.port}` }, { address: `127.0.0.1:${inbound}` }] })], "bad");
  const nacked = await eventually("status to show the NACK", async () => {
    const row = (await apiGet(cp, "/v1/status")).sidecars.find((s: { instance: string }) => s.instance === "checkout-1");
    return row?.lastNack?.version === 3 && row;
  });
  assert.match(nacked.lastNack.reason, /own listeners: requests would loop/);
  assert.equal(nacked.ackedVersion, 2);
  assert.equal(nacked.stale, true, "behind the head version");
  const table = await cp.cli(["status"]);
  assert.match(table.stdout, /checkout-1 .* 2 .* yes +v3: Backend\/payments/);
  for (let i = 0; i < 5; i++) assert.equal((await call(outbound!, "payments")).name, "b", "still serving version 2");
  const ready = await readyDetail(admin!);
  assert.equal(ready.body.controlPlane.configVersion, 2);
  assert.equal(ready.body.controlPlane.lastNack.version, 3);
  const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  assert.match(metrics, /outrigger_control_plane_updates_total\{[^}]*result="rejected"[^}]*\} 1/);
  assert.match(metrics, /outrigger_control_plane_staleness_seconds\{[^}]*\} 0/);

  // Rolling back fixes it: a new version equal to version 2, applied and ACKed.
  const rb = await fetch(`${cp.url}/v1/rollback`, { method: "POST", headers: { authorization: `Bearer ${cp.operator}` }, body: "{}" });
  assert.equal(rb.status, 201);
  await eventually("version 4 acked", async () => (await readyDetail(admin!)).body.controlPlane.configVersion === 4);
});
