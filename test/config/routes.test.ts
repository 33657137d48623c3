// Route table precedence (Gateway API): Exact > longest PathPrefix > RegularExpression > no path; then method;
// then more header matches; then more query matches; then declaration order. Prefixes match whole segments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findCandidate } from "../../src/sidecar/policies/route.js";
import { ConfigError } from "../../src/config/load.js";
import { exchange, planFrom } from "../support/exchange.js";

const plan = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec: { endpoints: [{ address: "127.0.0.1:9001" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: r }
spec:
  hosts: [svc]
  rules:
    - name: catch-all
      backendRefs: [{ name: svc }]
    - name: regex
      matches: [{ path: { type: RegularExpression, value: "/api/v[0-9]+/items" } }]
      backendRefs: [{ name: svc }]
    - name: api
      matches: [{ path: { type: PathPrefix, value: /api } }]
      backendRefs: [{ name: svc }]
    - name: api-v1
      matches: [{ path: { type: PathPrefix, value: /api/v1 } }]
      backendRefs: [{ name: svc }]
    - name: exact
      matches: [{ path: { type: Exact, value: /api/v1/items } }]
      backendRefs: [{ name: svc }]
    - name: post
      matches: [{ path: { type: PathPrefix, value: /api/v1 }, method: POST }]
      backendRefs: [{ name: svc }]
    - name: header
      matches: [{ path: { type: PathPrefix, value: /api/v1 }, headers: [{ name: x-beta, value: "1" }] }]
      backendRefs: [{ name: svc }]
    - name: header-regex
      matches: [{ path: { type: PathPrefix, value: /api/v1 }, headers: [{ name: x-beta, value: "1" }, { type: RegularExpression, name: x-tenant, value: "ac.*" }] }]
      backendRefs: [{ name: svc }]
    - name: query
      matches: [{ path: { type: PathPrefix, value: /api/v1 }, queryParams: [{ name: debug, value: "true" }] }]
      backendRefs: [{ name: svc }]
    - name: present
      matches: [{ path: { type: PathPrefix, value: /admin }, headers: [{ type: Present, name: x-admin }] }]
      backendRefs: [{ name: svc }]
`);

const ruleFor = (method: string, path: string, headers: Record<string, string> = {}) => {
  const { match } = findCandidate(plan.outbound, exchange({ host: "svc", method, path, headers }));
  return match?.rule.id;
};

test("Exact beats every prefix and regex", () => assert.equal(ruleFor("GET", "/api/v1/items"), "r/exact"));
test("longer PathPrefix beats shorter", () => assert.equal(ruleFor("GET", "/api/v1/other"), "r/api-v1"));
test("PathPrefix matches whole segments only", () => {
  assert.equal(ruleFor("GET", "/api/v1x"), "r/api");
  assert.equal(ruleFor("GET", "/apix"), "r/catch-all");
  assert.equal(ruleFor("GET", "/api"), "r/api");
});
test("PathPrefix beats RegularExpression; regex beats no path", () => {
  assert.equal(ruleFor("GET", "/api/v2/items"), "r/api");
  assert.equal(ruleFor("GET", "/x"), "r/catch-all");
});
test("method match beats header matches at equal path", () => assert.equal(ruleFor("POST", "/api/v1/a", { "x-beta": "1" }), "r/post"));
test("more header matches win; regex and exact header values", () => {
  assert.equal(ruleFor("GET", "/api/v1/a", { "x-beta": "1" }), "r/header");
  assert.equal(ruleFor("GET", "/api/v1/a", { "x-beta": "1", "x-tenant": "acme" }), "r/header-regex");
  assert.equal(ruleFor("GET", "/api/v1/a", { "x-beta": "1", "x-tenant": "globex" }), "r/header");
});
test("header matches beat query matches; query matches beat none", () => {
  assert.equal(ruleFor("GET", "/api/v1/a?debug=true", { "x-beta": "1" }), "r/header");
  assert.equal(ruleFor("GET", "/api/v1/a?debug=true"), "r/query");
  assert.equal(ruleFor("GET", "/api/v1/a?debug=false"), "r/api-v1");
});
test("Present header match", () => {
  assert.equal(ruleFor("GET", "/admin/x", { "x-admin": "" }), "r/present");
  assert.equal(ruleFor("GET", "/admin/x"), "r/catch-all");
});

test("an invalid regex is a config error naming the field, not a crash", () => {
  assert.throws(
    () =>
      planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec: { endpoints: [{ address: "127.0.0.1:9001" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: r }
spec:
  hosts: [svc]
  rules:
    - matches: [{ path: { type: RegularExpression, value: "/(unclosed" } }]
      backendRefs: [{ name: svc }]
`),
    (err: unknown) => err instanceof ConfigError && /rules\[0\]\.matches\[0\]\.path\.value: invalid regular expression/.test(err.message),
  );
});

test("the segment index narrows lookups without changing precedence", () => {
  const idx = plan.outbound.index.get("svc")!;
  const api = idx.bySegment.get("api")!.map((c) => c.rule.id);
  assert.ok(!api.includes("r/present"), "/admin candidates are not walked for /api paths");
  assert.deepEqual(api, plan.outbound.byHost.get("svc")!.filter((c) => c.segment === undefined || c.segment === "api").map((c) => c.rule.id));
  assert.deepEqual(idx.any.map((c) => c.rule.id), ["r/regex", "r/catch-all"]);
  assert.equal(ruleFor("GET", "/admin?x=1", { "x-admin": "1" }), "r/present");
});
