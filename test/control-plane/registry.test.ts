// The registry on real processes: endpoints registered by one sidecar's heartbeat reach the sidecars that route
// to that service, and a draining sidecar deregisters before it stops.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "undici";
import { apiToken, applyResources, eventually, resource, startControlPlane } from "../support/control-plane.js";
import { freePorts } from "../support/ports.js";
import { startSidecar } from "../support/processes.js";
import { startEcho } from "../support/upstreams.js";

const call = async (port: number, host: string) => {
  const r = await request(`http://127.0.0.1:${port}/x`, { headers: { host } });
  const text = await r.body.text();
  return { status: r.statusCode, name: r.statusCode === 200 ? (JSON.parse(text) as { name: string }).name : undefined, code: r.headers["x-outrigger-error"] };
};

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
    await writeFile(f, await apiToken(cp, "sidecar", svc));
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
