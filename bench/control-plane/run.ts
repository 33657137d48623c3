// `npm run bench:control-plane`: 200 simulated sidecars (the real subscription client, merge and compile) in this
// process, subscribed to one control-plane process. Each apply is timed until every sidecar has ACKed it.
// Prints a table and one JSON line (the last line of stdout). Flags: --sidecars N, --applies N.
import { parseArgs } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { request } from "undici";
import { compilePlan } from "../../src/config/compile.js";
import { API_VERSION } from "../../src/config/kinds/common.js";
import type { AnyResource } from "../../src/config/schema.js";
import { mergeResources } from "../../src/control-plane/client/merge.js";
import { Subscription } from "../../src/control-plane/client/subscription.js";
import type { Snapshot } from "../../src/control-plane/push.js";
import { sample, spawnPinned, waitFor200 } from "../process.js";

const { values: flags } = parseArgs({ options: { sidecars: { type: "string", default: "200" }, applies: { type: "string", default: "30" } } });
const SIDECARS = Number(flags.sidecars);
const APPLIES = Number(flags.applies);
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const TARGET_P99_MS = 1000;

const dir = await mkdtemp(path.join(tmpdir(), "outrigger-cp-bench-"));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const url = `http://127.0.0.1:${port}`;
const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: "utf8" }).trim();
const operator = cli("token", "create", "--data", dir, "--role", "operator");
const server = spawnPinned("control-plane", process.execPath, [CLI, "control-plane", "--data", dir, "--listen", `127.0.0.1:${port}`], undefined, { OUTRIGGER_LOG_LEVEL: "warn" });
await waitFor200(`${url}/healthz`, Date.now(), 15_000, server);
const sidecarToken = (JSON.parse(cli("token", "create", "--role", "sidecar", "--service", "bench", "-o", "json", "--server", url, "--token", operator)) as { token: string }).token;

const local: AnyResource[] = [{ apiVersion: API_VERSION, kind: "Sidecar", metadata: { name: "bench" }, spec: { service: "bench", app: "127.0.0.1:1", outbound: "127.0.0.1:2" } } as AnyResource];
const acked = new Map<number, number[]>(); // version -> ACK completion times (ms since epoch)
let waiter: { version: number; resolve: () => void } | undefined;

async function ack(instance: string, snap: Snapshot) {
  const r = await request(`${url}/v1/ack`, {
    method: "POST",
    headers: { authorization: `Bearer ${sidecarToken}`, "content-type": "application/json" },
    body: JSON.stringify({ service: "bench", instance, version: snap.version, hash: snap.hash, ok: true }),
  });
  await r.body.text();
  const list = acked.get(snap.version) ?? [];
  list.push(Date.now());
  acked.set(snap.version, list);
  if (waiter && waiter.version === snap.version && list.length === SIDECARS) waiter.resolve();
}

let connected = 0;
const subs = Array.from({ length: SIDECARS }, (_, i) => {
  const instance = `bench-${i}`;
  let wasConnected = false;
  const s = new Subscription({
    urls: [url],
    token: () => sidecarToken,
    service: "bench",
    instance,
    onSnapshot: async (snap) => {
      compilePlan(mergeResources(local, snap), "bench"); // the work a sidecar does before it ACKs
      await ack(instance, snap);
    },
    onState: (st) => {
      if (st.connected && !wasConnected) connected++;
      if (!st.connected && wasConnected) connected--;
      wasConnected = st.connected;
    },
    onContact: () => {},
  });
  s.start();
  return s;
});
const t0 = Date.now();
while (connected < SIDECARS && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
const rssIdle = (await sample(server.pid)).rssBytes;

const allAck: number[] = [];
const perSidecar: number[] = [];
for (let i = 0; i < APPLIES; i++) {
  const text = [
    { kind: "Backend", metadata: { name: "payments" }, spec: { endpoints: Array.from({ length: 5 }, (_, j) => ({ address: `10.0.${i % 250}.${j + 1}:8080`, labels: { version: j % 2 ? "v2" : "v1" } })) } },
    { kind: "Route", metadata: { name: "payments" }, spec: { hosts: ["payments"], rules: [{ backendRefs: [{ name: "payments", subset: "v1", weight: 90 }, { name: "payments", subset: "v2", weight: 10 }] }] } },
  ]
    .map((r) => JSON.stringify({ apiVersion: API_VERSION, ...r }))
    .join("\n---\n");
  const start = Date.now();
  const res = await request(`${url}/v1/apply`, { method: "POST", headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" }, body: JSON.stringify({ files: [{ name: "bench.yaml", text }], message: `bench ${i}` }) });
  const { version } = (await res.body.json()) as { version: number };
  await new Promise<void>((resolve, reject) => {
    if ((acked.get(version)?.length ?? 0) >= SIDECARS) return resolve();
    waiter = { version, resolve };
    setTimeout(() => reject(new Error(`version ${version}: only ${acked.get(version)?.length ?? 0}/${SIDECARS} ACKs after 30 s`)), 30_000).unref();
  });
  const times = acked.get(version)!;
  allAck.push(Math.max(...times) - start);
  if (process.env.BENCH_DEBUG) process.stderr.write(`v${version}: ${allAck[allAck.length - 1]} ms; slowest 3 ${[...times].sort((a, b) => b - a).slice(0, 3).map((t) => t - start)}\n`);
  for (const t of times) perSidecar.push(t - start);
}
const rssEnd = (await sample(server.pid)).rssBytes;
await Promise.all(subs.map((s) => s.close()));
await server.stop();
await rm(dir, { recursive: true, force: true });

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const result = {
  scenario: "control-plane-push",
  sidecars: SIDECARS,
  applies: APPLIES,
  allAckMs: { p50: q(allAck, 50), p99: q(allAck, 99), max: Math.max(...allAck) },
  perSidecarAckMs: { p50: q(perSidecar, 50), p99: q(perSidecar, 99) },
  serverRssMiB: { idle: Math.round(rssIdle / 1048576), end: Math.round(rssEnd / 1048576) },
  targetP99Ms: TARGET_P99_MS,
  pass: q(allAck, 99) <= TARGET_P99_MS,
};
process.stdout.write(
  [
    `control plane: ${SIDECARS} subscribed sidecars, ${APPLIES} applies (apply request → every sidecar compiled and ACKed)`,
    `  all-ACK      p50 ${result.allAckMs.p50} ms   p99 ${result.allAckMs.p99} ms   max ${result.allAckMs.max} ms   (target p99 ≤ ${TARGET_P99_MS} ms: ${result.pass ? "met" : "MISSED"})`,
    `  per sidecar  p50 ${result.perSidecarAckMs.p50} ms   p99 ${result.perSidecarAckMs.p99} ms`,
    `  server RSS   ${result.serverRssMiB.idle} MiB with ${SIDECARS} subscribers idle, ${result.serverRssMiB.end} MiB after ${APPLIES} versions`,
    JSON.stringify(result),
  ].join("\n") + "\n",
);
