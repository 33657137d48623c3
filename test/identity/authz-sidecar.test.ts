// Authorization through a real sidecar process: raw requests (clients would normalize them first) with bypass
// attempts reach the inbound listener; denied ones never reach the app and the 403 names no policy.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { rawExchange, statusOf } from "../support/raw.js";

let app: Echo;
let sidecar: Proc;
let dir: string;
let inbound: number;

before(async () => {
  app = await startEcho({ name: "app" });
  const [ib, admin] = await freePorts(2);
  inbound = ib!;
  dir = await mkdtemp(path.join(tmpdir(), "authz-"));
  const file = path.join(dir, "mesh.yaml");
  await writeFile(
    file,
    `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: payments }
spec: { service: payments, app: "127.0.0.1:${app.port}", inbound: "127.0.0.1:${inbound}", admin: "127.0.0.1:${admin}" }
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: secret-admin-policy }
spec:
  action: DENY
  rules: [{ paths: [/admin, /admin/*] }]
`,
  );
  sidecar = await startSidecar(["-c", file], admin!);
});

after(async () => {
  await sidecar?.kill();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (target: string) => rawExchange(inbound, `GET ${target} HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n`);

test("bypass attempts are denied with 403 AUTHZ_DENIED and never reach the app", async () => {
  for (const target of ["/admin", "/admin/../admin", "/%2e%2e/admin", "//admin", "/ADMIN", "/x/./../Admin/users"]) {
    const r = await get(target);
    assert.deepEqual(statusOf(r.text), [403], `${target}: ${r.text.slice(0, 80)}`);
    assert.match(r.text, /x-outrigger-error: AUTHZ_DENIED/i);
    assert.doesNotMatch(r.text, /secret-admin-policy/, "the policy name is not disclosed to the caller");
  }
  const enc = await get("/%2Fadmin");
  assert.deepEqual(statusOf(enc.text), [400], "an encoded slash is rejected");
  assert.ok(!app.requests.some((q) => /admin/i.test(q.url)), `the app saw: ${app.requests.map((q) => q.url).join(" ")}`);
});

test("allowed requests reach the app with the normalized path", async () => {
  const r = await get("/public/./a//b/../c");
  assert.deepEqual(statusOf(r.text), [200]);
  assert.equal(app.requests.at(-1)?.url, "/public/a/c");
});
