// High availability on a real redis-server: two control-plane replicas share one store, concurrent applies on
// both get distinct contiguous versions, and a sidecar whose replica is killed fails over to the other one
// without losing a change.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "undici";
import { requireBinary } from "../support/binaries.js";
import { startRedis } from "../support/redis.js";
import { apiGet, apiToken, applyResources, eventually, makeToken, newDataDir, readyDetail, resource, startControlPlane } from "../support/control-plane.js";
import { freePorts } from "../support/ports.js";
import { startSidecar } from "../support/processes.js";
import { startEcho } from "../support/upstreams.js";

test("two replicas on one Redis: concurrent applies stay contiguous; kill one, the sidecar fails over, no change lost", async (t) => {
  if (!requireBinary(t, "redis-server")) return;
  const redis = await startRedis();
  const store = `redis://127.0.0.1:${redis.port}`;
  const dataA = await newDataDir();
  const operator = await makeToken(dataA, "operator", [], store);
  const a = await startControlPlane({ dataDir: dataA, store, operator });
  const b = await startControlPlane({ dataDir: await newDataDir(), store, operator });
  const up = await Promise.all([0, 1, 2].map((i) => startEcho({ name: `up${i}` })));
  const app = await startEcho({ name: "app" });
  const [inbound, outbound, admin] = await freePorts(3);
  t.after(async () => {
    await a.proc.kill("SIGKILL");
    await b.proc.kill("SIGKILL");
    await redis.kill();
    await Promise.all([...up.map((u) => u.close()), app.close()]);
  });

  // 10 applies on each replica at once: the compare-and-set gives each its own version number.
  const backend = (port: number, tag: string) => resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${port}`, labels: { tag } }] });
  await Promise.all([...Array.from({ length: 10 }, (_, i) => applyResources(a, [backend(up[0]!.port, `a${i}`)])), ...Array.from({ length: 10 }, (_, i) => applyResources(b, [backend(up[0]!.port, `b${i}`)]))]);
  await applyResources(a, [resource("Route", "payments", { hosts: ["payments"], rules: [{ backendRefs: [{ name: "payments" }] }] })]);
  for (const cp of [a, b]) {
    const h = (await apiGet(cp, "/v1/versions?limit=100")).items as { version: number }[];
    assert.deepEqual(
      h.map((v) => v.version),
      Array.from({ length: 21 }, (_, i) => 21 - i),
      "both replicas see one contiguous history",
    );
  }

  const tokenFile = join(dataA, "checkout.token");
  await writeFile(tokenFile, await apiToken(a, "sidecar", "checkout"));
  const sidecar = await startSidecar(
    ["--service", "checkout", "--app", `127.0.0.1:${app.port}`, "--inbound", String(inbound), "--outbound", String(outbound), "--control-plane", `${a.url},${b.url}`, "--token-file", tokenFile, "--last-known-good", join(dataA, "lkg.json"), "--instance", "checkout-1"],
    admin!,
  );
  t.after(() => sidecar.kill());
  const name = async () => JSON.parse(await (await request(`http://127.0.0.1:${outbound}/`, { headers: { host: "payments" } })).body.text()).name as string;
  assert.equal((await readyDetail(admin!)).body.controlPlane.url, a.url, "subscribed to the first replica");
  assert.equal(await name(), "up0");

  // A change through replica B reaches the sidecar subscribed to A (pub/sub between replicas).
  await applyResources(b, [backend(up[1]!.port, "via-b")]);
  await eventually("change via B applied through A", async () => (await name()) === "up1");

  await a.proc.kill("SIGKILL");
  await eventually("sidecar to fail over to B", async () => (await readyDetail(admin!)).body.controlPlane.url === b.url, 15_000);
  const v = await applyResources(b, [backend(up[2]!.port, "after-failover")]);
  assert.equal(v.version, 23);
  await eventually("post-failover change applied", async () => (await name()) === "up2");
  const status = await eventually("B's status to show the ACK", async () => {
    const rows = (await apiGet(b, "/v1/status")).sidecars as { instance: string; ackedVersion?: number }[];
    return rows.find((r) => r.instance === "checkout-1" && r.ackedVersion === 23);
  });
  assert.ok(status);
  const audit = (await apiGet(b, "/v1/audit?limit=1000")).items as { action: string; result: string }[];
  assert.equal(audit.filter((e) => e.action === "apply" && e.result === "ok").length, 23, "every apply audited once, from either replica");
});
