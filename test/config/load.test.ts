import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseResources } from "../../src/config/load.js";
import { compilePlan } from "../../src/config/compile.js";

const SIDECAR = `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: checkout }
spec:
  service: checkout
  app: 127.0.0.1:8080
  outbound: 15001
`;

function issuesOf(text: string, file = "routes.yaml") {
  try {
    parseResources(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues;
  }
  assert.fail("expected a ConfigError");
}

test("valid multi-document config parses and compiles", () => {
  const text = `${SIDECAR}---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  endpoints:
    - { address: "127.0.0.1:9001", labels: { version: v1 } }
    - { address: "127.0.0.1:9002", labels: { version: v2 } }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
    - backendRefs: [{ name: payments, subset: v1, weight: 95 }, { name: payments, subset: v2, weight: 5 }]
`;
  const res = parseResources(text, "mesh.yaml");
  assert.equal(res.length, 3);
  const plan = compilePlan(res.map((r) => r.resource));
  assert.equal(plan.backends.get("payments")!.subsets.get("v2")!.length, 1);
  assert.equal(plan.outbound.byHost.get("payments")!.length, 1);
  assert.match(plan.version, /^[0-9a-f]{16}$/);
});

test("unknown field: file:line:column, path and did-you-mean", () => {
  const issues = issuesOf(`${SIDECAR}---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
    - backendRefs:
        - { name: payments, wieght: 5 }
`);
  assert.equal(issues.length, 1);
  const i = issues[0]!;
  assert.equal(i.file, "routes.yaml");
  assert.equal(i.line, 16);
  assert.equal(i.path, "spec.rules[0].backendRefs[0].wieght");
  assert.match(i.message, /unknown field "wieght" \(did you mean "weight"\?\)/);
});

test("out-of-range value names the field and the bound", () => {
  const issues = issuesOf(`apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: p }
spec:
  hosts: [p]
  rules:
    - backendRefs:
        - { name: p, weight: -1 }
`);
  assert.equal(issues[0]!.path, "spec.rules[0].backendRefs[0].weight");
  assert.equal(issues[0]!.line, 8);
  assert.match(issues[0]!.message, /greater or equal to 0/);
});

test("unknown kind and wrong apiVersion are reported with hints", () => {
  assert.match(issuesOf(`apiVersion: outrigger.dev/v1alpha1\nkind: Rout\nmetadata: {name: a}\nspec: {}\n`)[0]!.message, /did you mean "Route"/);
  assert.match(issuesOf(`apiVersion: v1\nkind: Route\nmetadata: {name: a}\nspec: {}\n`)[0]!.message, /must be "outrigger.dev\/v1alpha1"/);
});

test("YAML syntax errors carry a position", () => {
  const issues = issuesOf(`apiVersion: outrigger.dev/v1alpha1\nkind: [unclosed\n`);
  assert.ok(issues[0]!.line >= 2);
  assert.match(issues[0]!.message, /^YAML:/);
});

test("compile rejects references to unknown backends and loops to own listeners", () => {
  const res = parseResources(`${SIDECAR}---
apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: self }
spec: { endpoints: [{ address: "127.0.0.1:15001" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: r }
spec: { hosts: [x], rules: [{ backendRefs: [{ name: nothere }] }] }
`).map((r) => r.resource);
  assert.throws(() => compilePlan(res), (e: unknown) => {
    const msg = (e as Error).message;
    assert.match(msg, /no Backend named "nothere"/);
    assert.match(msg, /would loop/);
    return true;
  });
});
