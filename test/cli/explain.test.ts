// `outrigger explain` and explainRequest: route, split, limits, faults, timeouts and why; every traffic example
// (examples/traffic/*.yaml) validates, compiles and explains.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { cli } from "../support/processes.js";
import { loadFiles } from "../../src/config/load.js";
import { compilePlan } from "../../src/config/compile.js";
import { explainRequest, type Explanation } from "../../src/sidecar/explain.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/traffic/", import.meta.url));
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).map((f) => path.join(EXAMPLES, f));
const planOf = async (file: string) => compilePlan((await loadFiles([file])).map((l) => l.resource), file);

test("every traffic example validates and compiles into a plan with its policies", async () => {
  assert.ok(files.length >= 7, `examples: ${files.length}`);
  for (const f of files) {
    const plan = await planOf(f);
    const t = plan.traffic;
    const name = path.basename(f);
    if (name.startsWith("rate-limit")) assert.ok(t.rateLimits.length > 0, name);
    if (name === "faults.yaml") assert.equal(t.faults.length, 2);
    if (name === "resilience.yaml") assert.ok(t.backendPolicies.has("payments") && t.concurrency.length === 2);
    if (name === "mirror.yaml") assert.ok(plan.outbound.rules[0]!.filters.mirror);
  }
});

test("explainRequest: canary split, sticky choice, and why", async () => {
  const plan = await planOf(path.join(EXAMPLES, "canary.yaml"));
  const e = explainRequest(plan, { method: "GET", url: "http://payments/pay", headers: { "x-user": "alice" } });
  assert.equal(e.route?.id, "payments/canary");
  assert.deepEqual(e.backends.map((b) => [b.subset, b.percent]), [["v1", 95], ["v2", 5]]);
  assert.equal(e.backends.filter((b) => b.chosen).length, 1, "a sticky key names exactly one backend");
  const again = explainRequest(plan, { method: "GET", url: "http://payments/other", headers: { "x-user": "alice" } });
  assert.deepEqual(again.backends.map((b) => b.chosen), e.backends.map((b) => b.chosen));
  const acme = explainRequest(plan, { method: "GET", url: "http://payments/pay", headers: { "x-tenant": "acme" } });
  assert.equal(acme.route?.id, "payments/tenant-acme");
  assert.match(acme.why.join(" "), /#1 \(rule payments\/tenant-acme\)/);
});

test("explainRequest: unknown host and unmatched path are explained as the sidecar would answer", async () => {
  const plan = await planOf(path.join(EXAMPLES, "routes.yaml"));
  assert.equal(explainRequest(plan, { method: "GET", url: "http://nowhere/" }).error?.code, "UNKNOWN_SERVICE");
  const redirect = explainRequest(plan, { method: "GET", url: "/docs", headers: { host: "payments" } });
  assert.equal(redirect.route?.id, "payments/docs-moved");
  assert.match(redirect.filters[0]!, /^RequestRedirect 301 to/);
});

test("outrigger explain prints route, limits, faults and timeouts; -o json for scripts; exit 1 on no route", async () => {
  const faults = await cli(["explain", "-f", path.join(EXAMPLES, "faults.yaml"), "GET", "http://payments/pay", "-H", "x-outrigger-fault:abort"]);
  assert.equal(faults.code, 0, faults.stderr);
  assert.match(faults.stdout, /route: +payments\/all/);
  assert.match(faults.stdout, /fault: +abort-on-request: abort 503 for 100% — APPLIES/);
  assert.match(faults.stdout, /fault: +payments-latency: delay 200ms-400ms for 10%/);
  const rl = await cli(["explain", "--inbound", "-f", path.join(EXAMPLES, "rate-limit.yaml"), "POST", "http://checkout/orders", "-H", "x-client-id:gold-partner", "-o", "json"]);
  assert.equal(rl.code, 0, rl.stderr);
  const e = JSON.parse(rl.stdout) as Explanation;
  assert.equal(e.direction, "inbound");
  assert.match(e.rateLimits[0]!.limit, /^1000 per 1s \(override\), burst 2000$/);
  assert.match(e.rateLimits[0]!.key, /= "gold-partner"/);
  const res = JSON.parse((await cli(["explain", "-f", path.join(EXAMPLES, "resilience.yaml"), "GET", "http://payments/x", "-o", "json"])).stdout) as Explanation;
  assert.deepEqual(res.timeouts, { request: "2s", backendRequest: "500ms" });
  assert.equal(res.retry?.attempts, 2);
  assert.match(res.circuit?.breaker ?? "", /open after 20 consecutive failures/);
  const none = await cli(["explain", "-f", path.join(EXAMPLES, "routes.yaml"), "GET", "http://nowhere/"]);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /503 UNKNOWN_SERVICE/);
  const usage = await cli(["explain", "-f", path.join(EXAMPLES, "routes.yaml"), "GET", "/no-host"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /has no host/);
});

test("explainQuery (the envelope's control kind) answers like explain and names bad fields", async () => {
  const { explainQuery } = await import("../../src/sidecar/explain.js");
  const plan = await planOf(path.join(EXAMPLES, "canary.yaml"));
  const ok = explainQuery(plan, { method: "GET", url: "/pay", headers: { Host: "payments", "X-Tenant": "acme" } }) as Explanation;
  assert.equal(ok.route?.id, "payments/tenant-acme");
  assert.deepEqual(explainQuery(plan, { url: "/x" }), { error: { code: "BAD_REQUEST", message: 'query.method must be an HTTP method such as "GET"' } });
  assert.match((explainQuery(plan, { method: "GET", url: "/x" }) as { error: { message: string } }).error.message, /has no host/);
  assert.match((explainQuery(plan, { method: "GET", url: "http://a/", headers: { x: 1 } }) as { error: { message: string } }).error.message, /query.headers.x must be a string/);
});
