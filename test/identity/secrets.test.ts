// Secrets from files: rotation is picked up (plain rewrite and a Kubernetes-style symlink swap), the last good
// value survives a half-done swap, contents never reach errors or JSON; and the exposed admin port's mutating
// endpoints need the token from adminTokenFile, which rotates without a restart.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, symlink, rename, mkdir, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SecretFile } from "../../src/identity/secrets.js";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";

const dirs: string[] = [];
const procs: Proc[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const tmp = async () => {
  const d = await mkdtemp(path.join(tmpdir(), "secrets-"));
  dirs.push(d);
  return d;
};
async function until(cond: () => boolean | Promise<boolean>, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(25);
  }
}

test("a rewritten secret file is picked up; the value never shows in JSON or errors", async () => {
  const d = await tmp();
  const f = path.join(d, "token");
  await writeFile(f, "first-secret-value\n");
  const changes: string[] = [];
  const s = await new SecretFile(f, { pollMs: 200, onChange: (x) => changes.push(x.get()) }).start();
  try {
    assert.equal(s.get(), "first-secret-value");
    await writeFile(f, "second-secret-value\n");
    await until(() => s.get() === "second-secret-value");
    assert.deepEqual(changes, ["second-secret-value"]);
    assert.doesNotMatch(JSON.stringify({ s }), /secret-value/);
  } finally {
    s.close();
  }
  await assert.rejects(new SecretFile(path.join(d, "missing")).start(), (e: Error) => /cannot read secret file .*missing: ENOENT/.test(e.message));
});

test("Kubernetes-style rotation (..data symlink swapped) is picked up; a vanished file keeps the last good value", async () => {
  const d = await tmp();
  await mkdir(path.join(d, "v1"));
  await writeFile(path.join(d, "v1", "token"), "token-v1");
  await symlink("v1", path.join(d, "..data"));
  await symlink(path.join("..data", "token"), path.join(d, "token"));
  const errors: string[] = [];
  const s = await new SecretFile(path.join(d, "token"), { pollMs: 200, onError: (e) => errors.push(e.message) }).start();
  try {
    assert.equal(s.get(), "token-v1");
    await mkdir(path.join(d, "v2"));
    await writeFile(path.join(d, "v2", "token"), "token-v2");
    await symlink("v2", path.join(d, "..data_tmp"));
    await rename(path.join(d, "..data_tmp"), path.join(d, "..data"));
    await until(() => s.get() === "token-v2");
    await unlink(path.join(d, "token"));
    await until(() => errors.length > 0);
    assert.equal(s.get(), "token-v2", "the last good value is kept");
    assert.ok(errors.every((e) => !e.includes("token-v2")));
  } finally {
    s.close();
  }
});

const doc = (kind: string, name: string, spec: string) => `apiVersion: outrigger.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name} }\nspec: ${spec}\n---\n`;

test("exposed admin port: mutating endpoints need the admin token, which rotates from its file; reads stay open", async () => {
  const d = await tmp();
  const [admin, admin2, app] = await freePorts(3);
  const tokenFile = path.join(d, "admin.token");
  await writeFile(tokenFile, "admin-token-one\n");
  await writeFile(path.join(d, "a.yaml"), doc("Sidecar", "a", `{ service: a, app: "127.0.0.1:${app}", admin: "0.0.0.0:${admin}", adminTokenFile: "${tokenFile}" }`));
  await writeFile(path.join(d, "b.yaml"), doc("Sidecar", "b", `{ service: b, app: "127.0.0.1:${app}", admin: "0.0.0.0:${admin2}" }`));
  const a = await startSidecar(["-c", path.join(d, "a.yaml")], admin!);
  procs.push(a, await startSidecar(["-c", path.join(d, "b.yaml")], admin2!));
  const post = (port: number, token?: string) => fetch(`http://127.0.0.1:${port}/drain`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal((await post(admin!)).status, 401);
  assert.equal((await post(admin!, "wrong")).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${admin}/healthz`)).status, 200);
  const b = await post(admin2!);
  assert.equal(b.status, 403, "exposed without a token file: mutating endpoints are off");
  assert.equal(b.headers.get("x-outrigger-error"), "FORBIDDEN");
  const config = await (await fetch(`http://127.0.0.1:${admin}/config`)).text();
  assert.ok(config.includes(tokenFile) && !config.includes("admin-token-one"), "/config names the file, never the token");

  // A POST to no endpoint passes the guard only with a valid token (then 404), so it probes without draining.
  const probe = async (token: string) => (await fetch(`http://127.0.0.1:${admin}/no-such-endpoint`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).status;
  assert.equal(await probe("admin-token-one"), 404);
  await writeFile(tokenFile, "admin-token-two\n");
  await until(async () => (await probe("admin-token-one")) === 401 && (await probe("admin-token-two")) === 404, 15_000);
  const ok = await post(admin!, "admin-token-two");
  assert.equal(ok.status, 202, "the rotated token is accepted without a restart");
  assert.ok(!a.stdout().includes("admin-token-"), "tokens never reach the logs");
});
