// W3C Trace Context edge cases (https://www.w3.org/TR/trace-context/) and B3, through the sidecar's propagation.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { request } from "undici";
import { Propagation } from "../../src/telemetry/propagation.js";
import { freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { planOf, sidecarResource, startInProcess } from "../support/sidecars.js";
import type { Sidecar } from "../../src/sidecar/server.js";

const TID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SID = "00f067aa0ba902b7";
const w3c = new Propagation(["tracecontext"]);
const parsed = (headers: Record<string, string>) => trace.getSpanContext(w3c.extract(headers));

test("traceparent: valid, and every malformed variant the spec lists restarts the trace", () => {
  const ok = parsed({ traceparent: `00-${TID}-${SID}-01` })!;
  assert.deepEqual([ok.traceId, ok.spanId, ok.traceFlags, ok.isRemote], [TID, SID, 1, true]);
  const bad: Record<string, string> = {
    "version ff is invalid": `ff-${TID}-${SID}-01`,
    "version 00 must not carry more fields": `00-${TID}-${SID}-01-extra`,
    "upper-case trace id": `00-${TID.toUpperCase()}-${SID}-01`,
    "upper-case version": `0A-${TID}-${SID}-01`,
    "trace id too short": `00-${TID.slice(1)}-${SID}-01`,
    "trace id too long": `00-${TID}0-${SID}-01`,
    "span id too short": `00-${TID}-${SID.slice(1)}-01`,
    "span id too long": `00-${TID}-${SID}0-01`,
    "all-zero trace id": `00-${"0".repeat(32)}-${SID}-01`,
    "all-zero span id": `00-${TID}-${"0".repeat(16)}-01`,
    "non-hex flags": `00-${TID}-${SID}-0g`,
    "one-digit flags": `00-${TID}-${SID}-1`,
    "wrong separators": `00_${TID}_${SID}_01`,
    "future version shorter than 55 chars": `01-${TID}-${SID}-0`,
    "future version without a dash after the flags": `cc-${TID}-${SID}-01x`,
    empty: "",
  };
  for (const [why, value] of Object.entries(bad)) assert.equal(parsed({ traceparent: value }), undefined, why);
  // A future version is parsed by its first four fields, whatever follows a dash.
  const future = parsed({ traceparent: `cc-${TID}-${SID}-01-what-the-future-will-be-like` })!;
  assert.deepEqual([future.traceId, future.spanId, future.traceFlags & TraceFlags.SAMPLED], [TID, SID, 1]);
  assert.equal(parsed({ traceparent: `cc-${TID}-${SID}-09` })!.traceId, TID, "a future version of exactly 55 chars");
});

test("tracestate: ignored with an invalid traceparent, invalid members discarded, at most 32 members kept", () => {
  assert.equal(parsed({ traceparent: `00-${TID.toUpperCase()}-${SID}-01`, tracestate: "a=1" }), undefined);
  const ts = parsed({ traceparent: `00-${TID}-${SID}-01`, tracestate: "congo=t61rcWkgMzE,Invalid=x,rojo=00f067aa0ba902b7,bad-value=a=b,tenant@vendor=v" })!.traceState!;
  assert.equal(ts.serialize(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant@vendor=v");
  const members = Array.from({ length: 40 }, (_, i) => `k${i}=v${i}`).join(",");
  const capped = parsed({ traceparent: `00-${TID}-${SID}-01`, tracestate: members })!.traceState!.serialize().split(",");
  assert.equal(capped.length, 32);
  assert.equal(capped[0], "k0=v0", "the left-most (most recent) members are the ones kept");
  // Injection writes version 00 and only the flags this implementation knows.
  const headers: Record<string, string> = { traceparent: "stale", "x-b3-traceid": "stale" };
  w3c.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: TID, spanId: SID, traceFlags: 1, isRemote: false }), headers);
  assert.equal(headers.traceparent, `00-${TID}-${SID}-01`);
  assert.equal(headers["x-b3-traceid"], undefined, "stale headers of other formats are removed");
});

test("B3: single and multi header extraction, sampling flags", () => {
  const b3 = new Propagation(["b3", "b3multi"]);
  const single = trace.getSpanContext(b3.extract({ b3: `${TID}-${SID}-1` }))!;
  assert.deepEqual([single.traceId, single.spanId, single.traceFlags], [TID, SID, 1]);
  const multi = trace.getSpanContext(b3.extract({ "x-b3-traceid": TID, "x-b3-spanid": SID, "x-b3-sampled": "0" }))!;
  assert.deepEqual([multi.traceId, multi.traceFlags], [TID, 0]);
  const short = trace.getSpanContext(b3.extract({ "x-b3-traceid": TID.slice(16), "x-b3-spanid": SID }))!;
  assert.equal(short.traceId, `${"0".repeat(16)}${TID.slice(16)}`, "64-bit B3 trace ids are left-padded");
  assert.equal(trace.getSpanContext(b3.extract({ b3: "garbage" })), undefined);
});

let app: Echo;
let sc: Sidecar;
let ports: number[];
before(async () => {
  app = await startEcho();
  ports = await freePorts(2);
  sc = await startInProcess(planOf([sidecarResource({ service: "svc", app: `127.0.0.1:${app.port}`, inbound: ports[0], admin: ports[1] })]));
});
after(async () => {
  await sc?.close();
  await app?.close();
});

test("through a sidecar: the trace continues with a new span id, tracestate is kept (capped), bad input restarts", async () => {
  const send = async (headers: Record<string, string>) => {
    await (await request(`http://127.0.0.1:${ports[0]}/`, { headers })).body.text();
    return app.requests.at(-1)!.headers;
  };
  const members = Array.from({ length: 33 }, (_, i) => `m${i}=v`).join(",");
  const got = await send({ traceparent: `00-${TID}-${SID}-01`, tracestate: members });
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(got.traceparent))!;
  assert.equal(m[1], TID);
  assert.notEqual(m[2], SID);
  assert.equal(String(got.tracestate).split(",").length, 32);
  const fresh = await send({ traceparent: `00-${TID.toUpperCase()}-${SID}-01`, tracestate: "a=b" });
  const f = /^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/.exec(String(fresh.traceparent))!;
  assert.notEqual(f[1], TID.toLowerCase(), "an invalid traceparent starts a new trace");
  assert.equal(fresh.tracestate, undefined, "and its tracestate is not propagated");
  const fut = await send({ traceparent: `cc-${TID}-${SID}-ff-future` });
  assert.match(String(fut.traceparent), new RegExp(`^00-${TID}-[0-9a-f]{16}-01$`), "future versions are continued as version 00 with known flags only");
});
