// Distributed tracing through three services behind sidecars, exported as OTLP/HTTP protobuf to a real receiver.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { backendResource, planOf, sample, sidecarResource, startInProcess, telemetryResource, API } from "../support/sidecars.js";
import type { Sidecar } from "../../src/sidecar/server.js";

const FORWARD = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-request-id"];

/** An app that forwards the trace headers (as docs/tracing.md asks) to `next` through its sidecar's outbound port. */
async function startApp(name: string, next?: { host: string; port: () => number }) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (!next) {
      res.writeHead(req.url?.startsWith("/fail") ? 500 : 200, { "content-type": "text/plain" });
      return void res.end(name);
    }
    const headers: Record<string, string> = { host: next.host };
    for (const h of FORWARD) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
    request(`http://127.0.0.1:${next.port()}${req.url}`, { headers }).then(
      async (r) => {
        const text = await r.body.text();
        res.writeHead(r.statusCode, { "content-type": "text/plain" });
        res.end(`${name}>${text}`);
      },
      (err) => {
        res.writeHead(502);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

let receiver: OtlpReceiver;
const sidecars: Sidecar[] = [];
const apps: Awaited<ReturnType<typeof startApp>>[] = [];
let P: Record<string, number>;

const telemetry = (extra: Record<string, unknown> = {}) => telemetryResource({ export: { endpoint: receiver.url, interval: "50ms", token: "s3cret" }, ...extra });

before(async () => {
  receiver = await startOtlpReceiver();
  const ports = await freePorts(9);
  P = { aIn: ports[0]!, aOut: ports[1]!, aAdmin: ports[2]!, bIn: ports[3]!, bOut: ports[4]!, bAdmin: ports[5]!, cIn: ports[6]!, cAdmin: ports[7]!, spare: ports[8]! };
  const c = await startApp("c");
  const b = await startApp("b", { host: "c", port: () => P.bOut! });
  const a = await startApp("a", { host: "b", port: () => P.aOut! });
  apps.push(a, b, c);
  sidecars.push(
    await startInProcess(planOf([sidecarResource({ service: "c", version: "v3", environment: "test", app: `127.0.0.1:${c.port}`, inbound: P.cIn, admin: P.cAdmin }), telemetry()])),
    await startInProcess(planOf([sidecarResource({ service: "b", version: "v2", environment: "test", app: `127.0.0.1:${b.port}`, inbound: P.bIn, outbound: P.bOut, admin: P.bAdmin }), backendResource("c", [P.cIn]), telemetry()])),
    await startInProcess(planOf([sidecarResource({ service: "a", version: "v1", environment: "test", app: `127.0.0.1:${a.port}`, inbound: P.aIn, outbound: P.aOut, admin: P.aAdmin }), backendResource("b", [P.bIn]), telemetry()])),
  );
});

after(async () => {
  for (const s of sidecars) await s.close();
  for (const a of apps) await a.close();
  await receiver?.close();
});

test("one trace across three services: server and client spans with correct parent/child links and attributes", async () => {
  const r = await request(`http://127.0.0.1:${P.aIn}/orders/42?token=x`, { headers: { "user-agent": "t/1" } });
  assert.equal(await r.body.text(), "a>b>c");
  const spans = await receiver.waitForSpans(5, (s) => s.attributes["url.path"] === "/orders/42");
  assert.equal(spans.length, 5, JSON.stringify(spans.map((s) => s.name)));
  const by = (svc: string, kind: number) => {
    const s = spans.find((x) => x.resource["service.name"] === svc && x.kind === kind);
    assert.ok(s, `span ${svc}/${kind}`);
    return s;
  };
  const aServer = by("a", 2);
  const aClient = by("a", 3);
  const bServer = by("b", 2);
  const bClient = by("b", 3);
  const cServer = by("c", 2);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "one trace");
  assert.equal(aServer.parentSpanId, "", "the entry span is the root");
  assert.equal(aClient.parentSpanId, aServer.spanId);
  assert.equal(bServer.parentSpanId, aClient.spanId);
  assert.equal(bClient.parentSpanId, bServer.spanId);
  assert.equal(cServer.parentSpanId, bClient.spanId);
  // The app saw the inbound span as its parent (what it must forward).
  assert.equal(apps[0]!.seen.at(-1)!.traceparent, `00-${aServer.traceId}-${aServer.spanId}-01`);
  // Semantic conventions and mesh attributes.
  assert.equal(aServer.attributes["http.request.method"], "GET");
  assert.equal(aServer.attributes["url.path"], "/orders/42", "no query string");
  assert.equal(aServer.attributes["http.response.status_code"], 200);
  assert.equal(aServer.attributes["network.peer.address"], "127.0.0.1");
  assert.equal(aServer.attributes["user_agent.original"], "t/1");
  assert.equal(aServer.attributes["outrigger.route"], "inbound/default");
  assert.equal(aClient.attributes["outrigger.route"], "b/default");
  assert.equal(aClient.attributes["outrigger.backend"], "b");
  assert.equal(aClient.attributes["server.address"], "b");
  assert.equal(aClient.attributes["network.peer.port"], P.bIn);
  assert.deepEqual([aServer.resource["service.version"], aServer.resource["deployment.environment"]], ["v1", "test"]);
  assert.equal(bServer.resource["service.name"], "b");
  assert.ok(BigInt(aServer.startTimeUnixNano) <= BigInt(aClient.startTimeUnixNano) && BigInt(aClient.endTimeUnixNano) <= BigInt(aServer.endTimeUnixNano) + 1_000_000n);
  // Export used protobuf + gzip + the bearer token.
  const req = receiver.requests.find((x) => x.path === "/v1/traces")!;
  assert.equal(req.headers["content-type"], "application/x-protobuf");
  assert.equal(req.headers["content-encoding"], "gzip");
  assert.equal(req.headers.authorization, "Bearer s3cret");
});

test("errors: error code and status on spans; exemplars carry the sampled trace id", async () => {
  const r = await request(`http://127.0.0.1:${P.aIn}/fail/1`);
  await r.body.text();
  assert.equal(r.statusCode, 500);
  const spans = await receiver.waitForSpans(5, (s) => s.attributes["url.path"] === "/fail/1");
  const cServer = spans.find((s) => s.resource["service.name"] === "c" && s.kind === 2)!;
  assert.equal(cServer.status.code, 2);
  assert.equal(cServer.attributes["http.response.status_code"], 500);
  // A mesh error (no such host) on the outbound side.
  const u = await request(`http://127.0.0.1:${P.aOut}/x`, { headers: { host: "nowhere" } });
  await u.body.text();
  const [miss] = await receiver.waitForSpans(1, (s) => s.attributes["outrigger.error_code"] === "UNKNOWN_SERVICE");
  assert.equal(miss!.kind, 3);
  assert.equal(miss!.attributes["outrigger.route"], "unknown");
  assert.equal(miss!.status.code, 2);
  const om = await (await request(`http://127.0.0.1:${P.aAdmin}/metrics`, { headers: { accept: "application/openmetrics-text" } })).body.text();
  const line = om.split("\n").find((l) => l.startsWith("outrigger_requests_total{") && l.includes('direction="inbound"') && l.includes(" # {trace_id="));
  assert.ok(line, "an exemplar with a trace id");
  const id = /trace_id="([0-9a-f]{32})"/.exec(line)![1]!;
  assert.ok(receiver.spans.some((s) => s.traceId === id), "the exemplar's trace was exported");
});

test("B3 multi and single selected per mesh: extracted from the caller, injected upstream", async () => {
  const mesh = (propagation: string[]) => ({ apiVersion: API, kind: "Mesh", metadata: { name: "mesh" }, spec: { propagation } });
  const b = sidecars[1]!;
  const base = [sidecarResource({ service: "b", version: "v2", environment: "test", app: `127.0.0.1:${apps[1]!.port}`, inbound: P.bIn, outbound: P.bOut, admin: P.bAdmin }), backendResource("c", [P.cIn]), telemetry()];
  b.swap(planOf([...base, mesh(["b3multi"])]));
  const traceId = "463ac35c9f6413ad48485a3953bb6124";
  const r = await request(`http://127.0.0.1:${P.bIn}/b3`, { headers: { "x-b3-traceid": traceId, "x-b3-spanid": "0020000000000001", "x-b3-sampled": "1" } });
  await r.body.text();
  const seen = apps[1]!.seen.at(-1)!;
  assert.equal(seen["x-b3-traceid"], traceId);
  assert.equal(seen["x-b3-sampled"], "1");
  assert.equal(seen.traceparent, undefined, "only the mesh's formats are injected");
  const [bServer] = await receiver.waitForSpans(1, (s) => s.traceId === traceId && s.resource["service.name"] === "b" && s.kind === 2);
  assert.equal(bServer!.parentSpanId, "0020000000000001");
  assert.equal(seen["x-b3-spanid"], bServer!.spanId);
  b.swap(planOf([...base, mesh(["b3", "tracecontext"])]));
  const r2 = await request(`http://127.0.0.1:${P.bIn}/b3s`, { headers: { b3: `${traceId}-0020000000000002-1` } });
  await r2.body.text();
  const seen2 = apps[1]!.seen.at(-1)!;
  assert.match(String(seen2.b3), new RegExp(`^${traceId}-[0-9a-f]{16}-1$`));
  assert.match(String(seen2.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  b.swap(planOf(base));
});

test("a config reload switches tracing off (headers pass through untouched) and back on", async () => {
  const a = sidecars[2]!;
  const base = [sidecarResource({ service: "a", version: "v1", environment: "test", app: `127.0.0.1:${apps[0]!.port}`, inbound: P.aIn, outbound: P.aOut, admin: P.aAdmin }), backendResource("b", [P.bIn])];
  a.swap(planOf([...base, telemetry({ tracing: { enabled: false } })]));
  const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  await (await request(`http://127.0.0.1:${P.aIn}/off`, { headers: { traceparent: tp } })).body.text();
  assert.equal(apps[0]!.seen.at(-1)!.traceparent, tp);
  a.swap(planOf([...base, telemetry()]));
  await (await request(`http://127.0.0.1:${P.aIn}/on`, { headers: { traceparent: tp } })).body.text();
  assert.match(String(apps[0]!.seen.at(-1)!.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/);
  const spans = await receiver.waitForSpans(1, (s) => s.attributes["url.path"] === "/on" && s.resource["service.name"] === "a" && s.kind === 2);
  assert.equal(spans[0]!.parentSpanId, "b7ad6b7169203331");
  assert.ok(!receiver.spans.some((s) => s.attributes["url.path"] === "/off" && s.resource["service.name"] === "a"));
  const text = await (await request(`http://127.0.0.1:${P.aAdmin}/metrics`)).body.text();
  assert.ok((sample(text, "outrigger_telemetry_exported_total", { signal: "spans", result: "ok" }) ?? 0) > 0);
});
