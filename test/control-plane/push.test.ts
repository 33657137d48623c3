// Push and registry on real processes: a sidecar picks up a change and ACKs it; a change it cannot compile is
// NACKed (visible in `status`) while it keeps serving the previous version; registered endpoints reach the
// sidecars that route to that service, and a draining sidecar deregisters first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "undici";
import { applyResources, eventually, makeToken, readyDetail, resource, startControlPlane } from "../support/control-plane.js";
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
  await writeFile(tokenFile, await makeToken(cp.dataDir, "sidecar", ["--service", "checkout"]));
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
    const r = await cp.cli(["status", "-o", "json"]);
    const row = JSON.parse(r.stdout).sidecars.find((s: { instance: string }) => s.instance === "checkout-1");
    return row?.ackedVersion === 2 && row;
  });
  assert.equal(acked.service, "checkout");
  assert.equal(acked.stale, false);
  assert.equal(acked.address, `127.0.0.1:${inbound}`);

  // Valid mesh-wide, but on this sidecar the endpoint is its own inbound listener: it must refuse (loop).
  await applyResources(cp, [resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${b.port}` }, { address: `127.0.0.1:${inbound}` }] })], "bad");
  const nacked = await eventually("status to show the NACK", async () => {
    const r = await cp.cli(["status", "-o", "json"]);
    const row = JSON.parse(r.stdout).sidecars.find((s: { instance: string }) => s.instance === "checkout-1");
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
  const rb = await cp.cli(["rollback"]);
  assert.equal(rb.code, 0, rb.stderr);
  await eventually("version 4 acked", async () => (await readyDetail(admin!)).body.controlPlane.configVersion === 4);
});

test("registry: endpoints registered by one sidecar reach sidecars that route to it; draining deregisters first", async (t) => {
  const cp = await startControlPlane();
  const payApp = await startEcho({ name: "payments-app" });
  const checkoutApp = await startEcho({ name: "checkout-app" });
  const [pIn, pAdmin, cIn, cOut, cAdmin] = await freePorts(5);
  const procs: { kill(): Promise<unknown> }[] = [];
  t.after(async () => {
    for (const p of procs) await p.kill();
    await cp.stop();
    await Promise.all([payApp.close(), checkoutApp.close()]);
  });
  await applyResources(cp, [resource("Backend", "payments", { endpoints: [] })]);
  const tok = async (svc: string) => {
    const f = join(cp.dataDir, `${svc}.token`);
    await writeFile(f, await makeToken(cp.dataDir, "sidecar", ["--service", svc]));
    return f;
  };
  const common = (svc: string) => ["--control-plane", cp.url, "--token-file", "", "--last-known-good", join(cp.dataDir, `${svc}.lkg`), "--instance", `${svc}-1`];
  const payArgs = common("payments");
  payArgs[3] = await tok("payments");
  const checkoutArgs = common("checkout");
  checkoutArgs[3] = await tok("checkout");
  procs.push(await startSidecar(["--service", "checkout", "--app", `127.0.0.1:${checkoutApp.port}`, "--inbound", String(cIn), "--outbound", String(cOut), ...checkoutArgs], cAdmin!));
  assert.equal((await call(cOut!, "payments")).status, 503, "no endpoints yet");

  const pay = await startSidecar(["--service", "payments", "--version", "v7", "--app", `127.0.0.1:${payApp.port}`, "--inbound", String(pIn), ...payArgs], pAdmin!);
  procs.push(pay);
  await eventually("checkout to reach payments through its registered inbound", async () => (await call(cOut!, "payments")).name === "payments-app");
  const eps = (await (await fetch(`${cp.url}/v1/endpoints`, { headers: { authorization: `Bearer ${cp.operator}` } })).json()) as { items: { service: string; address: string; labels: Record<string, string> }[] };
  assert.deepEqual(
    eps.items.filter((e) => e.service === "payments").map((e) => [e.service, e.address, e.labels.version]),
    [["payments", `127.0.0.1:${pIn}`, "v7"]],
  );

  await fetch(`http://127.0.0.1:${pAdmin}/drain`, { method: "POST" });
  await eventually("payments to be deregistered and checkout to stop sending there", async () => (await call(cOut!, "payments")).status === 503);
  const after = (await (await fetch(`${cp.url}/v1/endpoints`, { headers: { authorization: `Bearer ${cp.operator}` } })).json()) as { items: { service: string }[] };
  assert.deepEqual(after.items.map((e) => e.service), ["checkout"]);
});
