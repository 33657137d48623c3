// The control plane as a real process driven by the real CLI: apply/get/history/diff/rollback round trip,
// rejected applies audited and storing nothing, roles enforced (401/403 with reasons), tokens stored hashed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { makeToken, startControlPlane } from "../support/control-plane.js";

const backend = (port: number) => `apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  endpoints: [{ address: "127.0.0.1:${port}" }]
`;
const route = `apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
    - backendRefs: [{ name: payments }]
`;

test("apply, get, history, diff, rollback round trip through the CLI", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const dir = join(cp.dataDir, "manifests");
  await mkdir(dir);
  await writeFile(join(dir, "backend.yaml"), backend(9001));
  await writeFile(join(dir, "route.yaml"), route);

  let r = await cp.cli(["apply", "-f", dir, "-m", "first", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const v1 = JSON.parse(r.stdout);
  assert.equal(v1.version, 1);
  assert.deepEqual(v1.changes.map((c: { key: string; change: string }) => `${c.change} ${c.key}`), ["added Backend/payments", "added Route/payments"]);

  // dry run: prints the diff, stores nothing
  await writeFile(join(dir, "backend.yaml"), backend(9002));
  r = await cp.cli(["apply", "-f", join(dir, "backend.yaml"), "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /- +- address: 127\.0\.0\.1:9001/);
  assert.match(r.stdout, /\+ +- address: 127\.0\.0\.1:9002/);
  assert.match(r.stdout, /dry run/);
  r = await cp.cli(["history", "-o", "json"]);
  assert.equal(JSON.parse(r.stdout).items.length, 1);

  r = await cp.cli(["apply", "-f", join(dir, "backend.yaml"), "-m", "move payments"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /applied: version 2/);

  r = await cp.cli(["get", "backend", "payments", "-o", "json"]);
  assert.equal(JSON.parse(r.stdout).items[0].spec.endpoints[0].address, "127.0.0.1:9002");
  r = await cp.cli(["get", "route", "payments", "-o", "yaml"]);
  assert.match(r.stdout, /kind: Route/);
  r = await cp.cli(["get"]);
  assert.match(r.stdout, /Backend +payments/);
  assert.match(r.stdout, /Route +payments/);

  r = await cp.cli(["diff", "1", "2", "-o", "json"]);
  const d = JSON.parse(r.stdout);
  assert.deepEqual(d.changes.map((c: { key: string }) => c.key), ["Backend/payments"]);
  // against local files: identical to the head → no differences
  r = await cp.cli(["diff", "-f", dir]);
  assert.match(r.stdout, /no differences/);

  r = await cp.cli(["rollback", "-m", "bad move", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rb = JSON.parse(r.stdout);
  assert.equal(rb.version, 3);
  r = await cp.cli(["get", "backend", "payments", "-o", "json"]);
  assert.equal(JSON.parse(r.stdout).items[0].spec.endpoints[0].address, "127.0.0.1:9001");
  r = await cp.cli(["history", "-o", "json"]);
  const h = JSON.parse(r.stdout).items;
  assert.deepEqual(h.map((v: { version: number }) => v.version), [3, 2, 1]);
  assert.equal(h[0].action, "rollback");
  assert.equal(h[0].hash, h[2].hash, "rolling back to version 1 reproduces its content hash");
  assert.match(h[1].author, /test-operator/);
  assert.equal(h[1].message, "move payments");

  r = await cp.cli(["rollback", "--to", "99"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no version 99/);

  r = await cp.cli(["delete", "route", "payments", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).version, 4);
});

test("a rejected apply stores nothing, says where and is audited with its reason", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const f = join(cp.dataDir, "bad.yaml");
  await writeFile(f, route); // a Route whose backend does not exist
  let r = await cp.cli(["apply", "-f", f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /no Backend named "payments"/);
  await writeFile(f, backend(9001).replace("endpoints:", "endpoint:"));
  r = await cp.cli(["apply", "-f", f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5:3 spec.endpoint: unknown field "endpoint" \\(did you mean "endpoints"\\?\\)`));
  // a Sidecar is local config: refused
  await writeFile(f, "apiVersion: outrigger.dev/v1alpha1\nkind: Sidecar\nmetadata: { name: x }\nspec: { service: x, app: '127.0.0.1:1' }\n");
  r = await cp.cli(["apply", "-f", f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /local to each sidecar/);
  assert.deepEqual(await readdir(join(cp.dataDir, "versions")), [], "no version was stored");
  r = await cp.cli(["audit", "-o", "json"]);
  const rejected = JSON.parse(r.stdout).items.filter((e: { result: string }) => e.result === "rejected");
  assert.equal(rejected.length, 3);
  assert.match(rejected[0].reason, /no Backend named "payments"/);
  assert.match(rejected[0].who, /test-operator/);
});

test("roles: no token 401, wrong role 403 with a reason, sidecar tokens act only for their service; tokens stored hashed", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const f = join(cp.dataDir, "b.yaml");
  await writeFile(f, backend(9001));

  let r = await cp.cli(["token", "create", "--role", "viewer", "--name", "dash"]);
  assert.equal(r.code, 0, r.stderr);
  const viewer = r.stdout.trim();
  assert.match(viewer, /^ort_[0-9a-f]{16}_/);
  assert.match(r.stderr, /shown once/);
  const stored = await readFile(join(cp.dataDir, "tokens.json"), "utf8");
  assert.ok(!stored.includes(viewer.split("_")[2]!), "the secret is not stored");
  assert.match(stored, /"hash": "[0-9a-f]{64}"/);

  r = await cp.cli(["get"], "");
  assert.equal(r.code, 4);
  assert.match(r.stderr, /UNAUTHENTICATED/);
  r = await cp.cli(["get"], "ort_0000000000000000_notarealsecretnotarealsecret");
  assert.equal(r.code, 4);
  assert.match(r.stderr, /UNAUTHENTICATED: .*Unknown token/);

  r = await cp.cli(["get"], viewer);
  assert.equal(r.code, 0, r.stderr);
  r = await cp.cli(["apply", "-f", f], viewer);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /FORBIDDEN: .*role viewer may not apply config; it needs operator/);
  r = await cp.cli(["token", "create", "--role", "operator"], viewer);
  assert.equal(r.code, 4);

  const sidecar = await makeToken(cp.dataDir, "sidecar", ["--service", "checkout"]);
  const call = (path: string, body: unknown, token: string) =>
    fetch(`${cp.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  let res = await call("/v1/heartbeat", { service: "checkout", instance: "c-1", endpoint: { address: "127.0.0.1:7001" } }, sidecar);
  assert.equal(res.status, 200);
  res = await call("/v1/heartbeat", { service: "payments", instance: "c-1", endpoint: { address: "127.0.0.1:7001" } }, sidecar);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("x-outrigger-error"), "FORBIDDEN");
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /only for service "checkout"/);
  r = await cp.cli(["get"], sidecar);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /role sidecar may not read config/);

  r = await cp.cli(["audit", "-o", "json"]);
  const items = JSON.parse(r.stdout).items;
  assert.ok(items.some((e: { action: string; result: string }) => e.action === "apply config" && e.result === "denied"));
  assert.equal(items.filter((e: { action: string }) => e.action === "token.create").length, 3);
});
