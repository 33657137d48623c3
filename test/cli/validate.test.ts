// `outrigger validate` and `outrigger schema` as a user runs them: exit codes, file:line:col + field path,
// did-you-mean, JSON output, and the committed JSON Schema matching what the CLI prints.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cli } from "../support/processes.js";
import { tempDir, type TempDir } from "../support/config.js";

let dir: TempDir;
before(() => {
  dir = tempDir();
});
after(() => dir?.remove());

const GOOD = `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: checkout }
spec:
  service: checkout
  app: 127.0.0.1:8080
  outbound: 15001
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  endpoints: [{ address: "127.0.0.1:9001" }]
`;

const BAD = `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: checkout }
spec:
  service: checkout
  app: 127.0.0.1:8080
  limits:
    conectTimeout: 2s
---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  loadBalancer: Random
  endpoints:
    - { address: "127.0.0.1:9001", lables: { version: v1 } }
`;

test("a valid file: exit 0 and a summary", async () => {
  const f = dir.write("good.yaml", GOOD);
  const r = await cli(["validate", f], { env: { NO_COLOR: "1" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^valid: 2 resource\(s\) in 1 file\(s\)$/m);
});

test("every error with file:line:col, field path and did-you-mean; exit 1", async () => {
  const f = dir.write("bad.yaml", BAD);
  const r = await cli(["validate", f], { env: { NO_COLOR: "1" } });
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 3, r.stderr);
  assert.ok(lines.some((l) => l.startsWith(`error ${f}:8:5 spec.limits.conectTimeout: unknown field "conectTimeout" (did you mean "connectTimeout"?); allowed: maxHeaderBytes,`)), r.stderr);
  assert.ok(lines.some((l) => l.startsWith(`error ${f}:14:17 spec.loadBalancer: must be one of "RoundRobin", "LeastRequest", "EWMA"`)), r.stderr);
  assert.ok(lines.some((l) => l.startsWith(`error ${f}:16:36 spec.endpoints[0].lables: unknown field "lables" (did you mean "labels"?)`)), r.stderr);
  assert.equal(r.stdout, "");
});

test("errors across several files are all reported; -o json is machine-readable", async () => {
  const good = dir.write("g2.yaml", GOOD);
  const bad = dir.write("b2.yaml", BAD);
  const broken = dir.write("broken.yaml", "apiVersion: outrigger.dev/v1alpha1\nkind: Backend\nmetadata: { name: x\nspec: {}\n");
  const r = await cli(["validate", good, bad, broken, "-o", "json"]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { valid: boolean; issues: { file: string; line: number; column: number; path: string; message: string }[] };
  assert.equal(out.valid, false);
  assert.equal(out.issues.filter((i) => i.file === bad).length, 3);
  const yamlIssue = out.issues.find((i) => i.file === broken)!;
  assert.ok(yamlIssue.line >= 3, JSON.stringify(yamlIssue));
  assert.match(yamlIssue.message, /^YAML: /);
});

test("a missing file is an error naming it; no files at all is a usage error", async () => {
  const r = await cli(["validate", "/nonexistent/x.yaml"], { env: { NO_COLOR: "1" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/x\.yaml:0:0 \(document\): cannot read file/);
  const none = await cli(["validate"]);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /missing required argument/);
});

test("unknown kind: did-you-mean and the list of kinds", async () => {
  const f = dir.write("kind.yaml", "apiVersion: outrigger.dev/v1alpha1\nkind: Backnd\nmetadata: { name: x }\nspec: {}\n");
  const r = await cli(["validate", f], { env: { NO_COLOR: "1" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${f}:2:7 kind: unknown kind "Backnd" \\(did you mean "Backend"\\?\\); known kinds: .*Sidecar`));
});

test("`outrigger schema` prints exactly the committed schema/outrigger.schema.json", async () => {
  const r = await cli(["schema"]);
  assert.equal(r.code, 0);
  const committed = readFileSync(fileURLToPath(new URL("../../../schema/outrigger.schema.json", import.meta.url)), "utf8");
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(committed), "regenerate with: node dist/src/cli/main.js schema > schema/outrigger.schema.json");
  const schema = JSON.parse(r.stdout) as Record<string, unknown>;
  const text = JSON.stringify(schema);
  for (const kind of ["Sidecar", "Backend", "Route"]) assert.ok(text.includes(`"${kind}"`), kind);
});
