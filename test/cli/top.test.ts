// `outrigger top` against a real collector: bounded runs (--iterations, --once) print RED per service, edge and
// route; a missing token and an unreachable collector fail with their exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cli } from "../support/processes.js";
import { startCollector } from "../support/collector.js";
import { freePort } from "../support/ports.js";

const nowNs = (ms = 0) => String(BigInt(Date.now() - ms) * 1_000_000n);
const kv = (key: string, v: string | number) => ({ key, value: typeof v === "number" ? { intValue: String(v) } : { stringValue: v } });

test("top prints services, edges and routes with RED from the collector, for a bounded number of frames", async () => {
  const c = await startCollector();
  try {
    const spans = (svc: string, kind: number, attrs: ReturnType<typeof kv>[], n: number) => ({
      resource: { attributes: [kv("service.name", svc)] },
      scopeSpans: [{ spans: Array.from({ length: n }, (_, i) => ({ traceId: `${"ab".repeat(8)}${String(i).padStart(16, "0")}`, spanId: `${kind}${String(i).padStart(15, "0")}`, name: "GET", kind, startTimeUnixNano: nowNs(30), endTimeUnixNano: nowNs(10), attributes: attrs })) }],
    });
    const body = { resourceSpans: [spans("checkout", 2, [kv("outrigger.route", "api"), kv("http.response.status_code", 200)], 10), spans("checkout", 3, [kv("outrigger.backend", "payments"), kv("http.response.status_code", 503)], 10)] };
    const r = await fetch(`${c.url}/v1/traces`, { method: "POST", headers: { authorization: `Bearer ${c.tokens.sender}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(r.status, 200);
    const env = { OUTRIGGER_COLLECTOR_TOKEN: c.tokens.viewer, NO_COLOR: "1" };
    const out = await cli(["top", "--collector", c.url, "--iterations", "2", "--interval", "0.2", "--window", "30"], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.match(/^outrigger top/gm)?.length, 2, "two frames");
    assert.match(out.stdout, /^checkout\s+\s*\S*\s+0\.3\s+0\.0%/m);
    assert.match(out.stdout, /^checkout → payments\s+0\.3\s+100\.0%/m);
    assert.match(out.stdout, /^checkout api\s+in\s/m);

    const json = await cli(["top", "--collector", c.url, "--once", "-o", "json"], { env });
    assert.equal(json.code, 0, json.stderr);
    const frame = JSON.parse(json.stdout);
    assert.deepEqual(frame.edges.map((e: any) => [e.source, e.target, e.requests, e.status5xx]), [["(external)", "checkout", 10, 0], ["checkout", "payments", 10, 10]]);

    const noToken = await cli(["top", "--collector", c.url, "--once"], { env: { OUTRIGGER_COLLECTOR_TOKEN: "" } });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /viewer token is needed/);
    const wrongRole = await cli(["top", "--collector", c.url, "--once"], { env: { OUTRIGGER_COLLECTOR_TOKEN: c.tokens.sender } });
    assert.equal(wrongRole.code, 3);
    assert.match(wrongRole.stderr, /403 FORBIDDEN/);
  } finally {
    await c.stop();
  }
  const down = await cli(["top", "--collector", `http://127.0.0.1:${await freePort()}`, "--once"], { env: { OUTRIGGER_COLLECTOR_TOKEN: "x".repeat(20) } });
  assert.equal(down.code, 3);
  assert.match(down.stderr, /cannot read/);
});
