// Access and lifecycle logs from a real sidecar process: fields, redaction, runtime changes (POST /logging and
// config reload), and the log-lines budget.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { sample } from "../support/sidecars.js";

let app: Echo;
let proc: Proc;
let dir: string;
let P: number[];
const TID = "0af7651916cd43dd8448eb211c80319c";

const config = (telemetry: Record<string, unknown>) =>
  [
    `apiVersion: outrigger.dev/v1alpha1\nkind: Sidecar\nmetadata: { name: logs }\nspec: { service: logs, app: "127.0.0.1:${app.port}", inbound: ${P[0]}, admin: ${P[1]} }`,
    `apiVersion: outrigger.dev/v1alpha1\nkind: TelemetryPolicy\nmetadata: { name: t }\nspec: ${JSON.stringify(telemetry)}`,
  ].join("\n---\n");

const lines = () =>
  proc
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const accessLines = (path: string) => lines().filter((l) => l.log === "access" && String(l.path).startsWith(path));
const waitFor = async <T>(fn: () => T | undefined, what: string, ms = 10_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${proc.stdout().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
const hit = async (path: string, headers: Record<string, string> = {}) => (await request(`http://127.0.0.1:${P[0]}${path}`, { headers })).body.text();
const admin = (path: string, init?: { method?: string; body?: string; headers?: Record<string, string> }) => request(`http://127.0.0.1:${P[1]}${path}`, init as never);

before(async () => {
  app = await startEcho();
  P = await freePorts(2);
  dir = await mkdtemp(join(tmpdir(), "outrigger-logs-"));
  await writeFile(join(dir, "c.yaml"), config({ tracing: { sampler: { type: "always" } }, logs: { access: { headers: ["authorization", "cookie", "x-tenant", "user-agent"] }, redactHeaders: ["x-tenant"] } }));
  proc = await startSidecar(["--config", join(dir, "c.yaml"), "--no-watch"], P[1]!);
});
after(async () => {
  await proc?.kill();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

test("one access line per request with ids, path without query, status, timing, bytes, route and upstream; secrets redacted", async () => {
  await hit("/items/7?secret=abc", { authorization: "Bearer tok-123", cookie: "sid=xyz", "x-tenant": "acme", "user-agent": "t/1", traceparent: `00-${TID}-b7ad6b7169203331-01` });
  const [line] = await waitFor(() => (accessLines("/items/7").length ? accessLines("/items/7") : undefined), "the access line");
  assert.equal(accessLines("/items/7").length, 1);
  const l = line!;
  assert.equal(l.trace_id, TID);
  assert.match(String(l.span_id), /^[0-9a-f]{16}$/);
  assert.match(String(l.request_id), /^[0-9a-f-]{36}$/);
  assert.equal(l.path, "/items/7");
  assert.deepEqual([l.method, l.status, l.direction, l.route, l.backend, l.upstream], ["GET", 200, "inbound", "inbound/default", "logs", `127.0.0.1:${app.port}`]);
  assert.equal(typeof l.duration_ms, "number");
  assert.ok(Number(l.bytes_out) > 0);
  assert.equal(l.bytes_in, 0);
  assert.ok(l.time, "pino timestamp");
  assert.deepEqual(l.headers, { authorization: "[redacted]", cookie: "[redacted]", "x-tenant": "[redacted]", "user-agent": "t/1" });
  const out = proc.stdout();
  for (const secret of ["tok-123", "sid=xyz", "acme", "secret=abc"]) assert.ok(!out.includes(secret), `${secret} leaked into logs`);
  // Lifecycle lines.
  assert.ok(lines().some((x) => x.event === "sidecar.ready"));
  assert.ok(lines().some((x) => x.event === "telemetry.started"));
});

test("POST /logging is guarded and changes level and access-log sampling at runtime", async () => {
  assert.equal((await admin("/logging", { method: "POST", body: '{"level":"debug"}' })).statusCode, 415, "JSON content type required");
  const bad = await admin("/logging", { method: "POST", body: '{"level":"loud"}', headers: { "content-type": "application/json" } });
  assert.equal(bad.statusCode, 400);
  assert.match(await bad.body.text(), /level must be one of/);
  const ok = await admin("/logging", { method: "POST", body: JSON.stringify({ level: "debug", access: { sampleRatio: 0 } }), headers: { "content-type": "application/json" } });
  assert.equal(ok.statusCode, 200);
  const view = (await ok.body.json()) as { level: string; access: { sampleRatio: number } };
  assert.deepEqual([view.level, view.access.sampleRatio], ["debug", 0]);
  for (let i = 0; i < 10; i++) await hit(`/quiet/${i}`);
  await hit("/marker-after-quiet");
  await waitFor(() => lines().some((x) => x.event === "logging.changed"), "the change's own log line");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(accessLines("/quiet/").length, 0, "sampleRatio 0 logs nothing");
  await admin("/logging", { method: "POST", body: JSON.stringify({ level: "info", access: { sampleRatio: 1 } }), headers: { "content-type": "application/json" } });
  await hit("/loud/1");
  await waitFor(() => accessLines("/loud/").length === 1 || undefined, "access line after re-enabling");
});

test("a config reload changes access-log settings and the log-lines budget; shed lines are counted", async () => {
  const before = ((await (await admin("/config")).body.json()) as { version: string }).version;
  await writeFile(join(dir, "c.yaml"), config({ logs: { access: { sampleRatio: 1 } }, budget: { logLinesPerSecond: 3 } }));
  proc.child.kill("SIGHUP");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((await (await admin("/config")).body.json()) as { version: string }).version === before) await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  for (let i = 0; i < 30; i++) await hit(`/budgeted/${i}`);
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const logged = accessLines("/budgeted/").length;
  const shed = sample(await (await admin("/metrics")).body.text(), "outrigger_telemetry_dropped_total", { signal: "logs", reason: "budget" }) ?? 0;
  assert.equal(logged + shed, 30, `logged ${logged} + shed ${shed}`);
  assert.ok(logged <= 3 + Math.ceil(seconds * 3) + 1, `logged ${logged} lines in ${seconds}s at 3/s`);
});
