// Access and audit on a real control-plane process: a rejected apply stores nothing, names file:line:field
// and is audited with its reason; no token 401, wrong role 403 with a reason; sidecar tokens act only for their
// own service; tokens are stored hashed and shown once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { apiGet, apiToken, resource, startControlPlane } from "../support/control-plane.js";

const route = resource("Route", "payments", { hosts: ["payments"], rules: [{ backendRefs: [{ name: "payments" }] }] });

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, { method: "POST", headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" }, body: JSON.stringify(body) });

test("a rejected apply stores nothing, says where and is audited with its reason", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const apply = (text: string) => post(`${cp.url}/v1/apply`, { files: [{ name: "mesh.yaml", text }] }, cp.operator);
  let res = await apply(route); // a Route whose Backend does not exist
  assert.equal(res.status, 422);
  assert.equal(res.headers.get("x-outrigger-error"), "CONFIG_INVALID");
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /no Backend named "payments"/);
  res = await apply("apiVersion: outrigger.dev/v1alpha1\nkind: Sidecar\nmetadata: { name: x }\nspec: { service: x, app: '127.0.0.1:1' }\n");
  assert.equal(res.status, 422);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /local to each sidecar/);

  // Through the CLI: the error names the user's file, line, column and field, exit code 1.
  const f = join(cp.dataDir, "bad.yaml");
  await writeFile(f, "apiVersion: outrigger.dev/v1alpha1\nkind: Backend\nmetadata: { name: payments }\nspec:\n  endpoint: []\n");
  const r = await cp.cli(["apply", "-f", f]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${f}:5:3 spec.endpoint: unknown field "endpoint" (did you mean "endpoints"?)`), r.stderr);

  assert.deepEqual(await readdir(join(cp.dataDir, "versions")), [], "no version was stored");
  const rejected = (await apiGet(cp, "/v1/audit")).items.filter((e: { result: string }) => e.result === "rejected");
  assert.equal(rejected.length, 3);
  assert.match(rejected[0].reason, /no Backend named "payments"/);
  assert.match(rejected[0].who, /test-operator/);
  assert.ok(rejected.every((e: { time: string; action: string }) => e.action === "apply" && !Number.isNaN(Date.parse(e.time))));
});

test("roles: no token 401, wrong role 403 with a reason, sidecar tokens act only for their service; tokens stored hashed", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const viewer = await apiToken(cp, "viewer");
  assert.match(viewer, /^ort_[0-9a-f]{16}_/);
  const stored = await readFile(join(cp.dataDir, "tokens.json"), "utf8");
  assert.ok(!stored.includes(viewer.split("_")[2]!), "the secret is not stored");
  assert.match(stored, /"hash": "[0-9a-f]{64}"/);
  const listed = await apiGet(cp, "/v1/tokens");
  assert.ok(listed.items.every((t: Record<string, unknown>) => !("hash" in t) && !("salt" in t)));

  let res = await fetch(`${cp.url}/v1/resources`);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("x-outrigger-error"), "UNAUTHENTICATED");
  res = await fetch(`${cp.url}/v1/resources`, { headers: { authorization: "Bearer ort_0000000000000000_notarealsecretnotarealsecret" } });
  assert.equal(res.status, 401);
  const forged = viewer.slice(0, -4) + "AAAA";
  res = await fetch(`${cp.url}/v1/resources`, { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(res.status, 401, "right id, wrong secret");

  res = await fetch(`${cp.url}/v1/resources`, { headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(res.status, 200);
  res = await post(`${cp.url}/v1/apply`, { files: [{ name: "r.yaml", text: route }] }, viewer);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("x-outrigger-error"), "FORBIDDEN");
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /role viewer may not apply config; it needs operator/);
  res = await post(`${cp.url}/v1/tokens`, { role: "operator" }, viewer);
  assert.equal(res.status, 403);
  res = await post(`${cp.url}/v1/rollback`, {}, viewer);
  assert.equal(res.status, 403);

  const sidecar = await apiToken(cp, "sidecar", "checkout");
  res = await post(`${cp.url}/v1/heartbeat`, { service: "checkout", instance: "c-1", endpoint: { address: "127.0.0.1:7001" } }, sidecar);
  assert.equal(res.status, 200);
  res = await post(`${cp.url}/v1/heartbeat`, { service: "payments", instance: "c-1", endpoint: { address: "127.0.0.1:7001" } }, sidecar);
  assert.equal(res.status, 403);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /only for service "checkout"/);
  res = await fetch(`${cp.url}/v1/subscribe?service=payments&instance=x`, { headers: { authorization: `Bearer ${sidecar}` } });
  assert.equal(res.status, 403);
  res = await fetch(`${cp.url}/v1/resources`, { headers: { authorization: `Bearer ${sidecar}` } });
  assert.equal(res.status, 403);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /role sidecar may not read config/);
  res = await post(`${cp.url}/v1/heartbeat`, { service: "checkout", instance: "c-1", endpoint: { address: "not an address" } }, sidecar);
  assert.equal(res.status, 400, "bad registration input is a 400 with a reason, not a crash");

  const items = (await apiGet(cp, "/v1/audit")).items;
  assert.ok(items.some((e: { action: string; result: string; reason?: string }) => e.action === "apply config" && e.result === "denied" && /viewer/.test(e.reason ?? "")));
  assert.equal(items.filter((e: { action: string }) => e.action === "token.create").length, 3, "bootstrap + viewer + sidecar");
});
