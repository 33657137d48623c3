// Admin port and process lifecycle through real sidecar processes: healthz/readyz/config/metrics, POST /drain,
// and SIGTERM under steady load (no in-flight request lost, Connection: close to keep-alive clients, exit 0).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "../support/ports.js";
import { startSidecar } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { sidecarYaml, tempDir, type TempDir } from "../support/config.js";

let up: Echo;
let dir: TempDir;
/** Request ids the upstream has received, and the hold it applies (ms) to each. */
const received = new Map<string, number>();

before(async () => {
  dir = tempDir();
  up = await startEcho({
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url!, "http://x");
      received.set(url.searchParams.get("id") ?? "", Date.now());
      req.resume();
      setTimeout(() => res.end("done"), Number(url.searchParams.get("hold") ?? 0));
    },
  });
});

after(async () => {
  await up?.close();
  dir?.remove();
});

const TELEMETRY_WITH_SECRETS = `---
apiVersion: outrigger.dev/v1alpha1
kind: TelemetryPolicy
metadata: { name: export }
spec:
  export:
    endpoint: "http://user:hunter2@127.0.0.1:9/"
    token: s3cret-token
    headers: { authorization: "Bearer abc", x-api-key: k1, x-tenant: acme }
`;

async function start(extra = "", limits?: Record<string, string>) {
  const [outbound, inbound, admin, app] = (await freePorts(4)) as [number, number, number, number];
  const file = dir.write(`lc-${admin}.yaml`, sidecarYaml({ app, inbound, outbound, admin, backends: { svc: [up.port] }, ...(limits ? { limits } : {}) }) + extra);
  const proc = await startSidecar(["--config", file], admin);
  return { proc, outbound, inbound, admin };
}

function get(port: number, path: string, agent?: http.Agent): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, headers: { host: "svc" }, agent: agent ?? false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

test("admin: healthz, readyz, config (secrets redacted), metrics, 404 with the list of endpoints", async () => {
  const sc = await start(TELEMETRY_WITH_SECRETS);
  try {
    const base = `http://127.0.0.1:${sc.admin}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const r = (await ready.json()) as { status: string; configVersion: string; listeners: Record<string, { port: number }> };
    assert.equal(r.status, "ready");
    assert.equal(r.listeners.outbound!.port, sc.outbound);
    assert.equal(r.listeners.inbound!.port, sc.inbound);
    assert.match(r.configVersion, /^[0-9a-f]{16}$/);

    const text = await (await fetch(`${base}/config`)).text();
    const cfg = JSON.parse(text) as { version: string; resources: { kind: string; spec: { export?: { headers: Record<string, string>; endpoint: string } } }[] };
    assert.equal(cfg.version, r.configVersion);
    for (const secret of ["hunter2", "s3cret-token", "Bearer abc", '"k1"']) assert.ok(!text.includes(secret), `${secret} leaked through /config`);
    const exp = cfg.resources.find((x) => x.kind === "TelemetryPolicy")!.spec.export!;
    assert.equal(exp.headers["x-tenant"], "acme", "non-secret fields are kept");
    assert.equal(exp.headers.authorization, "[redacted]");
    assert.match(exp.endpoint, /^http:\/\/\[redacted\]@127\.0\.0\.1:9\/$/);

    await get(sc.outbound, "/m");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^process_resident_memory_bytes(\{[^}]*\})? \d+/m);
    assert.match(metrics, /^outrigger_requests_total\{[^}]*direction="outbound"[^}]*\} \d+/m);

    const nf = await fetch(`${base}/nope`);
    assert.equal(nf.status, 404);
    assert.match(await nf.text(), /\/readyz/);
  } finally {
    await sc.proc.kill();
  }
});

test("POST /drain: readyz turns 503, listeners stop accepting, the in-flight request finishes with Connection: close", async () => {
  const sc = await start();
  try {
    const agent = new http.Agent({ keepAlive: true });
    const inflight = get(sc.outbound, "/held?id=drain-1&hold=600", agent);
    while (!received.has("drain-1")) await sleep(5);
    const drain = await fetch(`http://127.0.0.1:${sc.admin}/drain`, { method: "POST" });
    assert.equal(drain.status, 202);
    const ready = await fetch(`http://127.0.0.1:${sc.admin}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { status: string }).status, "draining");
    await assert.rejects(get(sc.outbound, "/new"), /ECONNREFUSED/, "new connections are refused while draining");
    const r = await inflight;
    assert.deepEqual([r.status, r.body, r.connection], [200, "done", "close"]);
    agent.destroy();
  } finally {
    await sc.proc.kill();
  }
});

test("SIGTERM under steady load: no in-flight request lost, keep-alive clients told to close, exit 0", async () => {
  const sc = await start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let stop = false;
  let killedAt = 0;
  let n = 0;
  const outcomes: { id: string; started: number; status?: number; body?: string; connection?: string; error?: string }[] = [];
  const client = async () => {
    while (!stop) {
      const id = `load-${n++}`;
      const o: (typeof outcomes)[number] = { id, started: Date.now() };
      outcomes.push(o);
      try {
        Object.assign(o, await get(sc.outbound, `/load?id=${id}&hold=400`, agent));
      } catch (e) {
        o.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        await sleep(20);
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await sleep(800);
  killedAt = Date.now();
  const inflightAtKill = outcomes.filter((o) => received.has(o.id) && o.status === undefined && o.error === undefined).map((o) => o.id);
  const exited = sc.proc.kill("SIGTERM");
  // Until the process exits, readyz answers 200 only until the signal is handled, then 503 while draining.
  let readyWhileDraining: number | undefined;
  while (readyWhileDraining === undefined) {
    const r = await fetch(`http://127.0.0.1:${sc.admin}/readyz`).catch(() => undefined);
    if (!r) break;
    await r.body?.cancel();
    if (r.status !== 200) readyWhileDraining = r.status;
    else await sleep(5);
  }
  const code = await exited;
  stop = true;
  await Promise.all(clients);
  agent.destroy();

  assert.equal(code, 0, "clean exit");
  assert.ok(inflightAtKill.length >= 4, `load was steady: ${inflightAtKill.length} in flight at SIGTERM`);
  assert.equal(readyWhileDraining, 503, "readyz is 503 while draining");
  for (const id of inflightAtKill) {
    const o = outcomes.find((x) => x.id === id)!;
    assert.deepEqual([o.status, o.body, o.error], [200, "done", undefined], `in-flight request ${id} was lost`);
    // Answers that left after the sidecar saw SIGTERM (those with ≥ 100 ms of their 400 ms hold to go) say close.
    if (received.get(id)! > killedAt - 300) assert.equal(o.connection, "close", `${id}: keep-alive client told to close`);
  }
  // Everything else either completed or was never accepted: no 5xx, no truncated body.
  for (const o of outcomes) {
    if (o.status !== undefined) assert.deepEqual([o.status, o.body], [200, "done"], JSON.stringify(o));
    else if (o.error) assert.ok(o.started >= killedAt - 200, `a request failed long before SIGTERM: ${JSON.stringify(o)}`);
  }
});
