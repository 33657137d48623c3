// Sampling: trace-id ratio (±2% over 10,000 traces, same decision in every sidecar), parent-based, rate-limited,
// per-route overrides, keep-errors/slow at span end, OTEL_TRACES_SAMPLER, and the spans budget.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";
import { request } from "undici";
import { MeshSampler } from "../../src/telemetry/sampling.js";
import { TelemetryBudget } from "../../src/telemetry/budget.js";
import { compileTelemetry, type TelemetryPlan } from "../../src/config/compile/telemetry.js";
import { freePorts } from "../support/ports.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { backendResource, planOf, sample, sidecarResource, startInProcess, telemetryResource } from "../support/sidecars.js";
import type { Sidecar } from "../../src/sidecar/server.js";

const NO_BUDGET = { spansPerSecond: Infinity, logLinesPerSecond: Infinity, exportBytesPerSecond: Infinity };
const tracing = (over: Omit<Partial<TelemetryPlan["tracing"]>, "sampler"> & { sampler?: Partial<TelemetryPlan["tracing"]["sampler"]> }): TelemetryPlan["tracing"] => ({
  enabled: true,
  routes: new Map(),
  keepErrors: false,
  slowMs: 0,
  maxPending: 100,
  ...over,
  sampler: { type: "ratio", ratio: 1, perSecond: 0, ...over.sampler },
});
const counters = () => ({ shed: 0, pendingFull: 0 });
const newSampler = (t: TelemetryPlan["tracing"], budget = new TelemetryBudget(NO_BUDGET)) => {
  const c = counters();
  return { s: new MeshSampler(t, budget, { shed: () => c.shed++, pendingFull: () => c.pendingFull++ }), c };
};

test("ratio sampling by trace id: within ±2% over 10,000 traces and identical in two sidecars", () => {
  const ids = new RandomIdGenerator();
  for (const ratio of [0.1, 0.5, 0.85]) {
    const one = newSampler(tracing({ sampler: { type: "ratio", ratio } })).s;
    const two = newSampler(tracing({ sampler: { type: "ratio", ratio } })).s;
    let kept = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = ids.generateTraceId();
      const a = one.headDecision(ROOT_CONTEXT, id, undefined);
      assert.equal(a, two.headDecision(ROOT_CONTEXT, id, undefined), "same trace id, same decision");
      if (a) kept++;
    }
    assert.ok(Math.abs(kept / 10_000 - ratio) <= 0.02, `ratio ${ratio}: kept ${kept}`);
  }
});

test("parent-based follows the caller's flag; rate-limited caps roots per second; per-route ratios override", () => {
  const id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parent = (flags: number) => trace.setSpanContext(ROOT_CONTEXT, { traceId: id, spanId: "00f067aa0ba902b7", traceFlags: flags, isRemote: true });
  const pr = newSampler(tracing({ sampler: { type: "parent-ratio", ratio: 0 } })).s;
  assert.equal(pr.headDecision(parent(1), id, undefined), true);
  assert.equal(pr.headDecision(parent(0), id, undefined), false);
  assert.equal(pr.headDecision(ROOT_CONTEXT, id, undefined), false, "roots use the ratio");
  const prOn = newSampler(tracing({ sampler: { type: "parent-ratio", ratio: 1 } })).s;
  assert.equal(prOn.headDecision(parent(0), id, undefined), false);
  const rl = newSampler(tracing({ sampler: { type: "rate-limited", perSecond: 5 } })).s;
  let kept = 0;
  for (let i = 0; i < 200; i++) if (rl.headDecision(ROOT_CONTEXT, new RandomIdGenerator().generateTraceId(), undefined)) kept++;
  assert.ok(kept >= 5 && kept <= 6, `rate-limited kept ${kept} of a 200-trace burst at 5/s`);
  assert.equal(rl.headDecision(parent(1), id, undefined), true, "children follow a sampled parent");
  const routed = newSampler(tracing({ sampler: { type: "always" }, routes: new Map([["noisy/0", 0], ["rare/0", 1]]) })).s;
  assert.equal(routed.headDecision(ROOT_CONTEXT, id, "noisy/0"), false);
  assert.equal(routed.headDecision(ROOT_CONTEXT, id, "other/0"), true);
  const off = newSampler(tracing({ sampler: { type: "never" }, routes: new Map([["rare/0", 1]]) })).s;
  assert.equal(off.headDecision(ROOT_CONTEXT, id, "rare/0"), true);
  assert.equal(off.headDecision(ROOT_CONTEXT, id, "x/0"), false);
});

test("OTEL_* environment variables set the defaults; a TelemetryPolicy overrides them", () => {
  const fail = (p: string, m: string) => assert.fail(`${p}: ${m}`);
  const env = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/", OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=acme,api-key=a%20b", OTEL_SERVICE_NAME: "renamed" };
  const p = compileTelemetry([], fail, env);
  assert.deepEqual(p.tracing.sampler, { type: "parent-ratio", ratio: 0.1, perSecond: 0 });
  assert.equal(p.export.tracesUrl, "http://127.0.0.1:4318/v1/traces");
  assert.equal(p.export.metricsUrl, "http://127.0.0.1:4318/v1/metrics");
  assert.deepEqual(p.export.headers, { "x-tenant": "acme", "api-key": "a b" });
  assert.equal(p.serviceName, "renamed");
  assert.deepEqual(compileTelemetry([], fail, { OTEL_TRACES_SAMPLER: "always_off" }).tracing.sampler.type, "never");
  assert.deepEqual(compileTelemetry([], fail, { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" }).tracing.sampler, { type: "ratio", ratio: 0.25, perSecond: 0 });
  assert.deepEqual(compileTelemetry([], fail, {}).tracing.sampler, { type: "parent-ratio", ratio: 1, perSecond: 0 }, "the SDK default: parentbased_always_on");
  const policy = planOf([sidecarResource({ service: "s", app: 1 }), telemetryResource({ tracing: { sampler: { type: "ratio", ratio: 0.3 } } })], env);
  assert.deepEqual(policy.telemetry.tracing.sampler, { type: "ratio", ratio: 0.3, perSecond: 0 });
  assert.throws(() => planOf([sidecarResource({ service: "s", app: 1 }), telemetryResource({ tracing: { sampler: { type: "rate-limited" } } })]), /perSecond/);
  assert.throws(() => planOf([sidecarResource({ service: "s", app: 1 }), telemetryResource({ tracing: { sampler: { type: "sometimes" } } })]));
});

// --- through real sidecars ---
let receiver: OtlpReceiver;
let app: { port: number; close(): Promise<void> };
let a: Sidecar;
let b: Sidecar;
let P: number[];
const tel = (tracingSpec: Record<string, unknown>, extra: Record<string, unknown> = {}) => telemetryResource({ export: { endpoint: receiver.url, interval: "50ms" }, tracing: tracingSpec, ...extra });
const planA = (t: Record<string, unknown>, extra?: Record<string, unknown>) => planOf([sidecarResource({ service: "a", app: "127.0.0.1:1", outbound: P[0], admin: P[1] }), backendResource("b", [P[2]!]), tel(t, extra)]);
const planB = (t: Record<string, unknown>, extra?: Record<string, unknown>) => planOf([sidecarResource({ service: "b", app: `127.0.0.1:${app.port}`, inbound: P[2], admin: P[3] }), tel(t, extra)]);

before(async () => {
  receiver = await startOtlpReceiver();
  const server = http.createServer((req, res) => {
    req.resume();
    const delay = /slow/.test(req.url ?? "") ? 700 : 0;
    setTimeout(() => {
      res.writeHead(/fail/.test(req.url ?? "") ? 500 : 200);
      res.end("ok");
    }, delay);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  app = { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
  P = await freePorts(4);
  b = await startInProcess(planB({ sampler: { type: "ratio", ratio: 0.5 } }));
  a = await startInProcess(planA({ sampler: { type: "ratio", ratio: 0.5 } }));
});
after(async () => {
  await a?.close();
  await b?.close();
  await app?.close();
  await receiver?.close();
});

const hit = async (path: string) => {
  const r = await request(`http://127.0.0.1:${P[0]}${path}`, { headers: { host: "b" } });
  await r.body.text();
  return r.statusCode;
};

test("two sidecars on one path make the same ratio decision for every trace", async () => {
  const N = 200;
  for (let i = 0; i < N; i++) await hit(`/consistent/${i}`);
  await new Promise((r) => setTimeout(r, 400));
  const spans = receiver.spans.filter((s) => String(s.attributes["url.path"]).startsWith("/consistent/"));
  const byPath = new Map<string, Set<string>>();
  for (const s of spans) byPath.set(String(s.attributes["url.path"]), (byPath.get(String(s.attributes["url.path"])) ?? new Set()).add(String(s.resource["service.name"])));
  for (const [path, services] of byPath) assert.equal(services.size, 2, `${path}: exported by ${[...services]} only`);
  assert.ok(byPath.size > N * 0.3 && byPath.size < N * 0.7, `kept ${byPath.size} of ${N}`);
});

test("errors and slow requests are kept at span end although the ratio says no; the rest are not", async () => {
  a.swap(planA({ sampler: { type: "never" }, keep: { errors: true, slowerThan: "350ms" } }));
  b.swap(planB({ sampler: { type: "never" }, keep: { errors: false } }));
  assert.equal(await hit("/keep/fail"), 500);
  await hit("/keep/slow");
  await hit("/keep/fine");
  const kept = await receiver.waitForSpans(2, (s) => String(s.attributes["url.path"]).startsWith("/keep/"));
  await new Promise((r) => setTimeout(r, 300));
  const got = receiver.spans.filter((s) => String(s.attributes["url.path"]).startsWith("/keep/"));
  assert.equal(got.length, 2, JSON.stringify(got.map((s) => [s.name, s.attributes["url.path"]])));
  assert.deepEqual(kept.map((s) => [s.attributes["url.path"], s.attributes["outrigger.sampling.kept"], s.resource["service.name"]]).sort(), [
    ["/keep/fail", "error", "a"],
    ["/keep/slow", "slow", "a"],
  ]);
  assert.equal(kept.find((s) => s.attributes["url.path"] === "/keep/fail")!.flags & 1, 0, "kept spans stay marked unsampled");
});

test("spans budget: over spansPerSecond the sidecar sheds and counts per signal", async () => {
  a.swap(planA({ sampler: { type: "always" } }, { budget: { spansPerSecond: 5 } }));
  const start = Date.now();
  for (let i = 0; i < 40; i++) await hit(`/budget/${i}`);
  const seconds = (Date.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const text = await (await request(`http://127.0.0.1:${P[1]}/metrics`)).body.text();
  const shed = sample(text, "outrigger_telemetry_dropped_total", { signal: "spans", reason: "budget" }) ?? 0;
  const exported = receiver.spans.filter((s) => String(s.attributes["url.path"]).startsWith("/budget/") && s.resource["service.name"] === "a").length;
  assert.equal(shed + exported, 40, `shed ${shed} + exported ${exported}`);
  assert.ok(exported <= 5 + Math.ceil(seconds * 5) + 1, `exported ${exported} in ${seconds}s`);
});
