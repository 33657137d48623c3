// RED + saturation metrics through real sidecars on loopback: exact counts, bounded labels, promtool, runtime switch.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { requireBinary } from "../support/binaries.js";
import { backendResource, planOf, sample, sidecarResource, startInProcess, telemetryResource } from "../support/sidecars.js";
import type { Sidecar } from "../../src/sidecar/server.js";

let app: Echo;
let a: Sidecar; // checkout: outbound -> b's inbound
let b: Sidecar; // payments: inbound -> app
let ports: Record<"aOut" | "aAdmin" | "bIn" | "bAdmin", number>;

const statusApp = () =>
  startEcho({
    handler: (req, res) => {
      const m = /^\/status\/(\d{3})/.exec(req.url ?? "");
      const body = "x".repeat(100);
      req.resume();
      req.on("end", () => {
        res.writeHead(m ? Number(m[1]) : 200, { "content-length": body.length });
        res.end(body);
      });
    },
  });

const planA = (telemetry: Record<string, unknown> = {}) =>
  planOf([
    sidecarResource({ service: "checkout", app: "127.0.0.1:1", outbound: ports.aOut, admin: ports.aAdmin }),
    backendResource("payments", [ports.bIn]),
    telemetryResource(telemetry),
  ]);

before(async () => {
  app = await statusApp();
  const [aOut, aAdmin, bIn, bAdmin] = await freePorts(4);
  ports = { aOut: aOut!, aAdmin: aAdmin!, bIn: bIn!, bAdmin: bAdmin! };
  b = await startInProcess(planOf([sidecarResource({ service: "payments", version: "v2", app: `127.0.0.1:${app.port}`, inbound: ports.bIn, admin: ports.bAdmin })]));
  a = await startInProcess(planA({ metrics: { maxLabelSets: 12 } }));
});

after(async () => {
  await a?.close();
  await b?.close();
  await app?.close();
});

const call = async (path: string, opts: { host?: string; method?: string; body?: string } = {}) => {
  const r = await request(`http://127.0.0.1:${ports.aOut}${path}`, { method: (opts.method ?? "GET") as "GET", headers: { host: opts.host ?? "payments" }, body: opts.body ?? null });
  await r.body.arrayBuffer();
  return r.statusCode;
};
const scrape = async (port: number, accept?: string) => {
  const r = await request(`http://127.0.0.1:${port}/metrics`, accept ? { headers: { accept } } : {});
  return { type: String(r.headers["content-type"]), text: await r.body.text() };
};

test("exact request counts, durations and sizes on both sides of a hop after N requests", async () => {
  const N = 25;
  for (let i = 0; i < N; i++) assert.equal(await call("/ok?secret=1"), 200);
  for (let i = 0; i < 3; i++) assert.equal(await call("/pay", { method: "POST", body: "y".repeat(300) }), 200);
  for (let i = 0; i < 2; i++) assert.equal(await call("/status/503"), 503);
  const { text } = await scrape(ports.aAdmin);
  const out = { service: "checkout", direction: "outbound", peer_service: "payments", route: "payments/default" };
  assert.equal(sample(text, "outrigger_requests_total", { ...out, method: "GET", code: "200", class: "2xx", error_code: "" }), N);
  assert.equal(sample(text, "outrigger_requests_total", { ...out, method: "POST", code: "200" }), 3);
  assert.equal(sample(text, "outrigger_requests_total", { ...out, method: "GET", code: "503", class: "5xx" }), 2);
  assert.equal(sample(text, "outrigger_request_duration_seconds_count", { ...out, method: "GET", class: "2xx" }), N);
  assert.equal(sample(text, "outrigger_request_duration_seconds_bucket", { ...out, method: "GET", class: "2xx", le: "+Inf" }), N);
  assert.equal(sample(text, "outrigger_request_body_bytes_sum", out), 900);
  assert.equal(sample(text, "outrigger_response_body_bytes_sum", out), 100 * (N + 3 + 2));
  assert.equal(sample(text, "outrigger_requests_in_flight", { direction: "outbound" }), 0);
  // The callee labels the same requests with the calling service and its own version.
  const inb = (await scrape(ports.bAdmin)).text;
  const inLabels = { service: "payments", direction: "inbound", peer_service: "checkout", route: "inbound/default", subset: "v2" };
  assert.equal(sample(inb, "outrigger_requests_total", { ...inLabels, method: "GET", code: "200" }), N);
  assert.equal(sample(inb, "outrigger_requests_total", { ...inLabels, code: "503" }), 2);
});

test("unknown hosts collapse to route=\"unknown\" with the error code; label sets are capped and overflow is counted", async () => {
  for (const h of ["nowhere-1", "nowhere-2", "nowhere-3"]) assert.equal(await call("/", { host: h }), 503);
  let text = (await scrape(ports.aAdmin)).text;
  assert.equal(sample(text, "outrigger_requests_total", { route: "unknown", peer_service: "unknown", error_code: "UNKNOWN_SERVICE", code: "503" }), 3);
  assert.ok(!text.includes("nowhere-"), "raw hosts must never become label values");
  // 20 distinct status codes against a cap of 12 label sets: the rest land in the overflow set and are counted.
  // (230–249: valid 2xx codes with a body; 204/205 with a Content-Length would test upstream framing instead.)
  for (let s = 230; s < 250; s++) await call(`/status/${s}`);
  text = (await scrape(ports.aAdmin)).text;
  const series = text.split("\n").filter((l) => l.startsWith("outrigger_requests_total{")).length;
  assert.ok(series <= 13, `series=${series}`);
  const overflow = sample(text, "outrigger_metrics_label_overflow_total", { metric: "outrigger_requests_total" }) ?? 0;
  assert.ok(overflow >= 20 - 12, `overflow=${overflow}`);
  assert.equal(sample(text, "outrigger_requests_total", { route: "__overflow__" }), overflow);
});

test("saturation: pool connections per backend, event-loop utilization, process memory and CPU", async () => {
  await call("/ok");
  const { text } = await scrape(ports.aAdmin);
  assert.ok((sample(text, "outrigger_upstream_connections", { backend: "payments", endpoint: `127.0.0.1:${ports.bIn}`, state: "idle" }) ?? -1) >= 1, "an idle keep-alive connection to payments");
  assert.notEqual(sample(text, "outrigger_upstream_connections", { backend: "payments", state: "pending" }), undefined);
  const elu = sample(text, "outrigger_event_loop_utilization_ratio");
  assert.ok(elu !== undefined && elu >= 0 && elu <= 1);
  assert.ok((sample(text, "process_resident_memory_bytes") ?? 0) > 1e6);
  assert.notEqual(sample(text, "process_cpu_seconds_total"), undefined);
  assert.notEqual(sample(text, "nodejs_eventloop_lag_p99_seconds"), undefined);
});

test("promtool check metrics passes on both sidecars' /metrics; OpenMetrics when the scraper asks", async (t) => {
  if (!requireBinary(t, "promtool")) return;
  for (const port of [ports.aAdmin, ports.bAdmin]) {
    const { text, type } = await scrape(port);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (out += d));
      p.on("close", (code) => resolve({ code, out }));
      p.stdin.end(text);
    });
    assert.equal(res.code, 0, res.out);
  }
  const om = await scrape(ports.aAdmin, "application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
  assert.match(om.type, /^application\/openmetrics-text/);
  assert.ok(om.text.trimEnd().endsWith("# EOF"));
  // The next plain scrape is plain text again.
  assert.match((await scrape(ports.aAdmin)).type, /^text\/plain/);
});

test("a config reload switches metrics off and on without restart", async () => {
  const before = sample((await scrape(ports.aAdmin)).text, "outrigger_requests_total", { method: "GET", code: "200", route: "payments/default" })!;
  a.swap(planA({ metrics: { enabled: false, maxLabelSets: 12 } }));
  for (let i = 0; i < 4; i++) await call("/ok");
  assert.equal(sample((await scrape(ports.aAdmin)).text, "outrigger_requests_total", { method: "GET", code: "200", route: "payments/default" }), before);
  a.swap(planA({ metrics: { enabled: true, maxLabelSets: 12 } }));
  for (let i = 0; i < 4; i++) await call("/ok");
  assert.equal(sample((await scrape(ports.aAdmin)).text, "outrigger_requests_total", { method: "GET", code: "200", route: "payments/default" }), before + 4);
});
