// The app envelope: schema accepts/rejects what it should, the published JSON Schema is the TypeBox one, and the
// example app's envelopes become span events, child spans, metrics and log lines correlated with its request.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { request } from "undici";
import { envelopeError, registerEnvelopeHandler } from "../../src/sidecar/envelope.js";
import { envelopeJsonSchema } from "../../src/telemetry/envelope-schema.js";
import { EnvelopeClient, fromHeaders } from "../../src/envelope-client/index.js";
import { freePorts } from "../support/ports.js";
import { waitForHttp } from "../support/processes.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { planOf, sample, sidecarResource, startInProcess, telemetryResource } from "../support/sidecars.js";
import type { Sidecar } from "../../src/sidecar/server.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TID = "4bf92f3577b34da6a3ce929d0e0e4736";
const ok = { v: 1, kind: "event", name: "cart.validated" };

test("schema: accepts valid envelopes with any attribute keys; rejects bad versions, kinds, ids and fields with a reason", () => {
  assert.equal(envelopeError(ok), undefined);
  assert.equal(envelopeError({ ...ok, traceId: TID, spanId: "00f067aa0ba902b7", requestId: "r-1", ts: 1732540000000, status: "error", attributes: { "any.new.key": "x", n: 1, b: true, list: ["a", 2] } }), undefined);
  assert.equal(envelopeError({ v: 1, kind: "metric", name: "orders", value: 2.5, metricType: "histogram" }), undefined);
  assert.equal(envelopeError({ v: 1, kind: "span", name: "db", ts: "2026-11-25T13:00:00.000Z", durationMs: 12 }), undefined);
  assert.equal(envelopeError({ v: 1, kind: "control", name: "route.explain", query: { url: "http://payments/x" } }), undefined);
  const bad: [unknown, RegExp][] = [
    [{ ...ok, v: 2 }, /unsupported envelope version v=2/],
    [{ ...ok, v: "1" }, /unsupported envelope version/],
    [{ kind: "event", name: "x" }, /version/],
    [{ ...ok, kind: "trace" }, /unknown kind "trace"/],
    [{ ...ok, traceId: TID.toUpperCase() }, /\/traceId/],
    [{ ...ok, traceId: TID.slice(2) }, /\/traceId/],
    [{ ...ok, spanId: "xyz" }, /\/spanId/],
    [{ ...ok, colour: "red" }, /unknown field "colour"/],
    [{ v: 1, kind: "event" }, /\/name/],
    [{ ...ok, name: "" }, /\/name/],
    [{ ...ok, attributes: { nested: { no: 1 } } }, /\/attributes\/nested/],
    [{ ...ok, ts: "yesterday" }, /\/ts/],
    [{ ...ok, status: "fine" }, /\/status/],
    [[ok], /JSON object/],
    ["text", /JSON object/],
  ];
  for (const [value, why] of bad) assert.match(envelopeError(value) ?? "accepted", why, JSON.stringify(value));
});

test("docs/envelope.schema.json is the schema derived from the TypeBox declaration", async () => {
  const committed = JSON.parse(await readFile(`${ROOT}docs/envelope.schema.json`, "utf8")) as unknown;
  assert.deepEqual(committed, envelopeJsonSchema());
});

test("fromHeaders reads traceparent and x-request-id", () => {
  assert.deepEqual(fromHeaders({ traceparent: `00-${TID}-00f067aa0ba902b7-01`, "x-request-id": "abc" }), { traceId: TID, spanId: "00f067aa0ba902b7", requestId: "abc" });
  assert.deepEqual(fromHeaders(new Headers({ traceparent: "garbage" })), {});
});

let receiver: OtlpReceiver;
let sc: Sidecar;
let appProc: ChildProcess;
let P: number[];
const logs: Record<string, unknown>[] = [];

before(async () => {
  receiver = await startOtlpReceiver();
  P = await freePorts(4); // inbound, admin, envelope, app
  appProc = spawn(process.execPath, [`${ROOT}examples/envelope/app.mjs`], { env: { ...process.env, PORT: String(P[3]), OUTRIGGER_ENVELOPE_URL: `http://127.0.0.1:${P[2]}` }, stdio: ["ignore", "pipe", "inherit"], cwd: ROOT });
  const listening = new Promise<void>((resolve, reject) => {
    appProc.stdout!.on("data", (d: Buffer) => d.toString().includes("shop listening") && resolve());
    appProc.once("exit", (code) => reject(new Error(`example app exited (${code})`)));
  });
  const logger = pino({ level: "info" }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  sc = await startInProcess(planOf([sidecarResource({ service: "shop", app: `127.0.0.1:${P[3]}`, inbound: P[0], admin: P[1], envelope: P[2] }), telemetryResource({ tracing: { sampler: { type: "always" } }, export: { endpoint: receiver.url, interval: "50ms" } })]), logger);
  await waitForHttp(`http://127.0.0.1:${P[2]}/v1/envelope/schema`);
  await listening;
});
after(async () => {
  appProc?.kill();
  await sc?.close();
  await receiver?.close();
});

const post = async (body: unknown, contentType = "application/json") => {
  const r = await request(`http://127.0.0.1:${P[2]}/v1/envelope`, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.statusCode, body: (await r.body.json()) as { accepted?: number; results?: unknown[]; error?: { message: string; index?: number } } };
};

test("POST /v1/envelope: 400 with a reason for bad input, nothing applied from a bad batch; 415 without JSON", async () => {
  const r1 = await post({ ...ok, v: 7 });
  assert.equal(r1.status, 400);
  assert.match(r1.body.error!.message, /unsupported envelope version v=7/);
  const r2 = await post([{ v: 1, kind: "metric", name: "never.counted", value: 1 }, { ...ok, colour: 1 }]);
  assert.equal(r2.status, 400);
  assert.equal(r2.body.error!.index, 1);
  const text = await (await request(`http://127.0.0.1:${P[1]}/metrics`)).body.text();
  assert.equal(sample(text, "outrigger_app_events_total", { name: "never.counted" }), undefined, "a rejected batch applies nothing");
  assert.equal((await post("{not json")).status, 400);
  assert.equal((await post(ok, "text/plain")).status, 415);
  assert.equal((await post(Array.from({ length: 101 }, () => ok))).status, 400);
  const accepted = await post([ok, { v: 1, kind: "metric", name: "batched", value: 3 }]);
  assert.deepEqual([accepted.status, accepted.body.accepted], [200, 2]);
});

test("the example app's envelopes land on its request's trace: event, child span, metrics, log line", async () => {
  const r = await request(`http://127.0.0.1:${P[0]}/checkout?items=3`);
  assert.deepEqual(await r.body.json(), { items: 3, total: 28.5 });
  const [server] = await receiver.waitForSpans(1, (s) => s.kind === 2 && s.attributes["url.path"] === "/checkout");
  assert.ok(server!.events.some((e) => e.name === "cart.validated" && e.attributes.items === 3), JSON.stringify(server!.events));
  const [child] = await receiver.waitForSpans(1, (s) => s.name === "price.compute");
  assert.equal(child!.traceId, server!.traceId);
  assert.equal(child!.parentSpanId, server!.spanId);
  assert.equal(child!.attributes.total, 28.5);
  assert.equal(child!.attributes["outrigger.source"], "app");
  const text = await (await request(`http://127.0.0.1:${P[1]}/metrics`)).body.text();
  assert.equal(sample(text, "outrigger_app_events_total", { name: "orders" }), 1);
  assert.equal(sample(text, "outrigger_app_observations_sum", { name: "order.value" }), 28.5);
  const line = logs.find((l) => l.log === "app" && l.msg === "order priced at 28.5");
  assert.ok(line, "the app's log line");
  assert.equal(line.trace_id, server!.traceId);
});

test("other modules register handlers per kind (control), answered in results", async () => {
  registerEnvelopeHandler("control", (env, ctx) => ({ echo: env.name, service: ctx.plan().sidecar.service, query: env.query }));
  const res = await new EnvelopeClient({ url: `http://127.0.0.1:${P[2]}` }).control("route.explain", { url: "http://payments/x" });
  assert.equal(res.ok, true);
  assert.deepEqual(res.results, [{ echo: "route.explain", service: "shop", query: { url: "http://payments/x" } }]);
  const down = await new EnvelopeClient({ url: "http://127.0.0.1:1", timeoutMs: 500 }).event("x");
  assert.equal(down.ok, false, "an unreachable sidecar never throws into the app");
});
