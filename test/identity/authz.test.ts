// The authorization policy alone (fake next): the decision matrix, path-normalization bypass attempts, dry-run.
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { Counter, Registry } from "prom-client";
import { parseResources } from "../../src/config/load.js";
import { compilePlan } from "../../src/config/compile.js";
import { authorize } from "../../src/identity/authz.js";
import { MeshError } from "../../src/errors.js";
import type { Exchange, Reply } from "../../src/sidecar/chain.js";

const TD = "mesh.test";
const id = (ns: string, sa: string, td = TD) => `spiffe://${td}/ns/${ns}/sa/${sa}`;

const BASE = `
apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: payments }
spec: { service: payments, app: "127.0.0.1:9" }
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: deny-admin }
spec:
  action: DENY
  rules: [{ paths: [/admin, /admin/*] }]
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: frontend-api }
spec:
  service: payments
  rules: [{ identities: [ns/prod/sa/frontend], paths: [/api/*], methods: [GET, POST] }]
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: ops-anything }
spec:
  rules: [{ identities: ["spiffe://${TD}/ns/ops/sa/*"] }]
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: health }
spec:
  rules: [{ paths: [/healthz] }]
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: tenants }
spec:
  rules: [{ identities: ["*"], paths: ["/tenant/*"], headers: [{ name: X-Tenant, values: [acme, "beta-*"] }] }]
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: someone-else }
spec:
  service: orders
  action: DENY
  rules: [{}]
`;

function build(extra = "", mesh = `authorization: {}`) {
  const yaml = `${BASE}\n---\napiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec: { trustDomain: ${TD}, ${mesh} }\n${extra}`;
  const plan = compilePlan(parseResources(yaml).map((l) => l.resource));
  const registry = new Registry();
  const decisions = new Counter({ name: "d", help: "d", labelNames: ["decision", "policy"] as const, registers: [registry] });
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  const policy = authorize(plan.security.authz!, { logger, decisions });
  return { policy, decisions, lines };
}

function exchange(path: string, identity?: string, method = "GET", headers: Record<string, string> = {}): Exchange {
  return {
    direction: "inbound", method, host: "payments", authority: "payments", path, headers, body: null,
    peer: { address: "127.0.0.1", port: 1, ...(identity ? { identity } : {}) },
    signal: new AbortController().signal, requestId: "r1", start: 0n, notes: {}, onEnd: () => {},
  };
}

type Result = { status: number; code?: string; forwarded?: string; ex: Exchange };
async function run(policy: ReturnType<typeof build>["policy"], ex: Exchange): Promise<Result> {
  let forwarded: string | undefined;
  try {
    const r = await policy(ex, async (e): Promise<Reply> => {
      forwarded = e.path;
      return { status: 200, headers: {}, body: null };
    });
    return { status: r.status, forwarded, ex };
  } catch (err) {
    assert.ok(err instanceof MeshError, String(err));
    return { status: err.status, code: err.code, ex };
  }
}

const FRONT = id("prod", "frontend");
const OPS = id("ops", "oncall");

const MATRIX: [string, string | undefined, string, number, string?][] = [
  // [method, identity, path, status, forwarded path]
  ["GET", FRONT, "/api/orders?x=1", 200, "/api/orders?x=1"],
  ["POST", FRONT, "/api/orders", 200],
  ["DELETE", FRONT, "/api/orders", 403], // method not allowed by the only matching ALLOW
  ["GET", FRONT, "/other", 403], // default deny once ALLOW policies exist
  ["GET", id("prod", "frontend", "evil.test"), "/api/orders", 403], // right names, wrong trust domain
  ["GET", id("staging", "frontend"), "/api/orders", 403], // wrong namespace
  ["GET", OPS, "/anything/at/all", 200],
  ["GET", OPS, "/admin", 403], // deny wins over an ALLOW that matches
  ["GET", FRONT, "/admin", 403],
  ["GET", undefined, "/healthz", 200], // unauthenticated caller, explicitly allowed path
  ["GET", undefined, "/api/orders", 403],
  // bypass attempts: each is normalized before matching and denied by deny-admin (or rejected outright)
  ["GET", OPS, "/admin/../admin", 403],
  ["GET", OPS, "/x/../admin/", 403],
  ["GET", OPS, "/%2e%2e/admin", 403],
  ["GET", OPS, "/%2E%2E/%61dmin", 403],
  ["GET", OPS, "/api/%2e%2e/admin/users", 403],
  ["GET", OPS, "//admin", 403],
  ["GET", OPS, "///admin//users", 403],
  ["GET", OPS, "/./admin", 403],
  ["GET", OPS, "/ADMIN", 403],
  ["GET", OPS, "/Admin/Users", 403],
  ["GET", OPS, "\\admin", 403],
  ["GET", OPS, "/x\\..\\admin", 403],
  ["GET", OPS, "/%2Fadmin", 400],
  ["GET", OPS, "/%2fadmin", 400],
  ["GET", OPS, "/admin%5Cx", 400],
  ["GET", OPS, "/bad%zzescape", 400],
  // the allowed side of normalization: what is forwarded is the normalized path
  ["GET", FRONT, "/api/./v1/../orders", 200, "/api/orders"],
  ["GET", FRONT, "/api//orders", 200, "/api/orders"],
  ["GET", FRONT, "/%61pi/orders", 200, "/api/orders"],
  ["GET", FRONT, "/api/caf%C3%A9", 200, "/api/caf%C3%A9"], // non-unreserved escapes stay encoded
  ["GET", FRONT, "/api/../../../../api/x", 200, "/api/x"], // cannot climb above the root
];

test("authorization matrix: identities, paths, methods, deny wins, default deny, bypass attempts", async () => {
  const { policy } = build();
  for (const [method, who, path, status, forwarded] of MATRIX) {
    const r = await run(policy, exchange(path, who, method));
    const label = `${method} ${path} as ${who ?? "(no identity)"}`;
    assert.equal(r.status, status, label);
    if (status === 403) assert.equal(r.code, "AUTHZ_DENIED", label);
    if (status === 400) assert.equal(r.code, "BAD_REQUEST", label);
    if (forwarded) assert.equal(r.forwarded, forwarded, label);
  }
});

test("header conditions: exact and prefix values; absent header does not match", async () => {
  const { policy } = build();
  assert.equal((await run(policy, exchange("/tenant/1", FRONT, "GET", { "x-tenant": "acme" }))).status, 200);
  assert.equal((await run(policy, exchange("/tenant/1", FRONT, "GET", { "x-tenant": "beta-42" }))).status, 200);
  assert.equal((await run(policy, exchange("/tenant/1", FRONT, "GET", { "x-tenant": "other" }))).status, 403);
  assert.equal((await run(policy, exchange("/tenant/1", FRONT, "GET"))).status, 403);
  // "*" means any authenticated identity: no identity, no match
  assert.equal((await run(policy, exchange("/tenant/1", undefined, "GET", { "x-tenant": "acme" }))).status, 403);
});

test("the denying policy's name goes to logs and notes, not into the error", async () => {
  const { policy, lines, decisions } = build();
  const r = await run(policy, exchange("/admin", OPS));
  assert.equal(r.status, 403);
  assert.equal(r.ex.notes.authzPolicy, "deny-admin");
  const line = lines.find((l) => l.event === "authz.denied");
  assert.equal(line?.policy, "deny-admin");
  const err = new MeshError("AUTHZ_DENIED");
  assert.doesNotMatch(JSON.stringify(err.toJSON()), /deny-admin/);
  const d = await decisions.get();
  assert.equal(d.values.find((v) => v.labels.decision === "deny" && v.labels.policy === "deny-admin")?.value, 1);
  const r2 = await run(policy, exchange("/other", FRONT));
  assert.equal(r2.ex.notes.authzPolicy, "default-deny(frontend-api,ops-anything,health,tenants)");
});

test("case-sensitive matching is a choice: /ADMIN then no longer matches the /admin deny", async () => {
  const { policy } = build("", "authorization: { pathCase: sensitive }");
  assert.equal((await run(policy, exchange("/admin", OPS))).status, 403);
  assert.equal((await run(policy, exchange("/ADMIN", OPS))).status, 200);
});

test("escapedSlashes: keep leaves %2F encoded: it neither matches /admin nor is decoded when forwarded", async () => {
  const { policy } = build("", "authorization: { escapedSlashes: keep }");
  const r = await run(policy, exchange("/%2fadmin", OPS));
  assert.equal(r.status, 200);
  assert.equal(r.forwarded, "/%2Fadmin");
  assert.equal((await run(policy, exchange("/%2fadmin", FRONT))).status, 403, "and still default-denied for others");
});

test("dry-run: a would-be denial is logged and counted, the request passes", async () => {
  const dry = `---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: lockdown-orders }
spec:
  action: DENY
  dryRun: true
  rules: [{ paths: [/api/orders], methods: [POST] }]
`;
  const { policy, lines, decisions } = build(dry);
  const r = await run(policy, exchange("/api/orders", FRONT, "POST"));
  assert.equal(r.status, 200);
  assert.equal(r.ex.notes.authzDryRun, "lockdown-orders");
  assert.equal(lines.filter((l) => l.event === "authz.dry_run_denied" && l.policy === "lockdown-orders").length, 1);
  const ok = await run(policy, exchange("/api/orders", FRONT, "GET"));
  assert.equal(ok.ex.notes.authzDryRun, undefined);
  const d = await decisions.get();
  assert.equal(d.values.find((v) => v.labels.decision === "dry_run_deny")?.value, 1);
});

test("a dry-run ALLOW policy shadows the default deny it would introduce", async () => {
  const yaml = `
apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: s }
spec: { service: payments, app: "127.0.0.1:9" }
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: only-frontend }
spec:
  dryRun: true
  rules: [{ identities: [ns/prod/sa/frontend] }]
`;
  const plan = compilePlan(parseResources(yaml).map((l) => l.resource));
  const registry = new Registry();
  const decisions = new Counter({ name: "d", help: "d", labelNames: ["decision", "policy"] as const, registers: [registry] });
  const policy = authorize(plan.security.authz!, { logger: pino({ level: "silent" }), decisions });
  const r = await run(policy, exchange("/x", id("prod", "other", "cluster.local")));
  assert.equal(r.status, 200, "nothing enforced");
  assert.equal(r.ex.notes.authzDryRun, "default-deny(only-frontend)");
  const r2 = await run(policy, exchange("/x", id("prod", "frontend", "cluster.local")));
  assert.equal(r2.ex.notes.authzDryRun, undefined);
});

test("policies for another service and bad patterns: compiled away or rejected with the field path", () => {
  const { policy } = build();
  assert.ok(policy);
  const bad = `
apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: s }
spec: { service: payments, app: "127.0.0.1:9" }
---
apiVersion: outrigger.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: broken }
spec:
  rules: [{ identities: ["ns/prod"], paths: ["/a*b"] }]
`;
  assert.throws(
    () => compilePlan(parseResources(bad).map((l) => l.resource)),
    (err: Error) => /AuthorizationPolicy\/broken\.spec\.rules\[0\]\.identities\[0\]/.test(err.message) && /rules\[0\]\.paths\[0\]/.test(err.message),
  );
  const none = compilePlan(parseResources(bad.split("---")[0]!).map((l) => l.resource));
  assert.equal(none.security.authz, undefined, "no policy: authz is skipped entirely");
});

test("examples/security/payments.yaml validates and compiles: identity, permissive mTLS, three policies", async () => {
  const { readFile } = await import("node:fs/promises");
  const file = new URL("../../../examples/security/payments.yaml", import.meta.url);
  const plan = compilePlan(parseResources(await readFile(file, "utf8"), "payments.yaml").map((l) => l.resource));
  assert.equal(plan.security.mtlsMode, "permissive");
  assert.equal(plan.security.identity?.spiffeId, "spiffe://example.test/ns/default/sa/payments");
  assert.equal(plan.security.authz?.enforced.deny.length, 1);
  assert.equal(plan.security.authz?.shadow?.deny.length, 2);
});
