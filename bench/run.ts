// `npm run bench`: every row of bench/scenarios/ in one run, on loopback, against one upstream; ratios against
// baselines measured in the same run. Prints a table and one JSON line (the last line of stdout).
// Flags: --quick, --only NAME[,NAME] (baselines are added), --rounds N, --duration S, --connections N,
//        --profile (sidecars run with --cpu-prof; a summary of where time goes is printed), --list,
//        --ref PATH (another build's dist/src/cli/main.js: adds the sidecar-ref row, an A/B in one run).
import { parseArgs } from "node:util";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus as cpuInfo, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { SCENARIOS } from "./scenarios/index.js";
import type { BenchContext, RowResult, Scenario, SidecarHandle, SidecarStart, Target } from "./scenario.js";
import { hasBinary, pinSelf, sample, sampleAll, spawnPinned, waitFor200 } from "./process.js";
import { createLoadGenerator, type LoadGenerator, type LoadResult } from "./load.js";
import { startUpstream } from "./upstream.js";
import { printReport, evaluateTargets } from "./report.js";
import { summarizeProfiles } from "./profile.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", multiple: true },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    profile: { type: "boolean", default: false },
    list: { type: "boolean", default: false },
    "load-generator": { type: "string" },
    upstream: { type: "string" },
    ref: { type: "string" },
  },
});

if (flags.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(16)} ${s.description}${s.baseline ? ` (vs ${s.baseline})` : ""}\n`);
  process.exit(0);
}

const quick = flags.quick!;
const settings = {
  rounds: Number(flags.rounds ?? (quick ? 1 : 3)),
  durationSec: Number(flags.duration ?? (quick ? 2 : 5)),
  warmupSec: quick ? 1 : 2,
  connections: Number(flags.connections ?? 64),
  // Moderate load: 8 connections, each pausing 4 ms between requests (~1,500-2,000 req/s).
  moderate: { connections: 8, delayMs: 4, durationSec: quick ? 2 : 3 },
};

const selected = select(SCENARIOS, flags.only);
const machineCpus = availableParallelism(); // read before pinning narrows it
const twoCores = machineCpus >= 2 && !!hasBinary("taskset");
const proxyCpus = twoCores ? "0" : undefined;
const loadCpus = twoCores ? "1" : undefined;
if (loadCpus) pinSelf(loadCpus);

const dir = await mkdtemp(path.join(tmpdir(), "outrigger-bench-"));
const profileDir = flags.profile ? path.join(dir, "profiles") : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });

const upstream = await startUpstream(dir, await freePort(), loadCpus, flags.upstream);
const gen = await createLoadGenerator(dir, loadCpus, flags["load-generator"]);
const ctx: BenchContext = {
  upstream: { host: upstream.host, port: upstream.port, kind: upstream.kind },
  tmpdir: dir,
  proxyCpus,
  loadCpus,
  quick,
  profileDir,
  refCli: flags.ref ? path.resolve(flags.ref) : undefined,
  freePort,
  startSidecar,
};

const loadBefore = loadavg()[0]!;
const rows = new Map<string, RowResult>();
const running = new Map<string, Target>();
const stopAll = async () => {
  for (const t of running.values()) await t.stop().catch(() => {});
  running.clear();
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  for (const s of selected) {
    rows.set(s.name, { name: s.name, description: s.description, baseline: baselineOf(s) });
    const why = s.unavailable?.();
    if (why) rows.get(s.name)!.skipped = why;
  }
  // Start every load target first (idle RSS is read before any load), then drive them round-robin, so slow
  // drift on a shared machine spreads over all rows instead of biasing the ones that ran last.
  const loadRows = selected.filter((s) => s.start && !rows.get(s.name)!.skipped);
  for (const s of loadRows) {
    const row = rows.get(s.name)!;
    try {
      const t = await s.start!(ctx);
      running.set(s.name, t);
      await new Promise((r) => setTimeout(r, 200));
      row.idleRssMb = t.measured.length ? (await sampleAll(t.measured)).rssBytes / 2 ** 20 : undefined;
      row.readyMs = t.readyMs;
      row.notes = t.notes;
    } catch (err) {
      row.skipped = `failed to start: ${lastLine((err as Error).message)}`;
    }
  }
  const sat = new Map<string, Phase[]>();
  const mod = new Map<string, Phase[]>();
  for (const [name, t] of running) {
    progress(`warm-up ${name}`);
    await gen.run({ url: t.url, host: t.host, connections: settings.connections, durationSec: settings.warmupSec });
  }
  for (let r = 0; r < settings.rounds; r++)
    for (const [name, t] of running) {
      progress(`round ${r + 1}/${settings.rounds} ${name}`);
      push(sat, name, await phase(gen, t, { connections: settings.connections, durationSec: settings.durationSec }));
      push(mod, name, await phase(gen, t, settings.moderate));
    }
  for (const [name, t] of running) {
    const row = rows.get(name)!;
    const s = sat.get(name)!;
    const m = mod.get(name)!;
    row.rps = median(s.map((p) => p.load.rps));
    row.p50Ms = median(s.map((p) => p.load.p50Ms));
    row.p99Ms = median(s.map((p) => p.load.p99Ms));
    row.errors = [...s, ...m].reduce((a, p) => a + p.load.errors, 0);
    row.moderateRps = median(m.map((p) => p.load.rps));
    row.moderateP50Ms = median(m.map((p) => p.load.p50Ms));
    row.loadCoreBusy = Math.max(...s.map((p) => p.loadCoreBusy));
    if (t.measured.length) {
      const reqs = s.reduce((a, p) => a + p.load.requests, 0);
      row.cpuSecPer1k = (s.reduce((a, p) => a + p.proxyCpu, 0) / reqs) * 1000;
      row.rssMb = (await sampleAll(t.measured)).rssBytes / 2 ** 20;
    }
  }
  await stopAll();
  for (const s of selected)
    if (s.measure && !rows.get(s.name)!.skipped) {
      progress(`measure ${s.name}`);
      Object.assign(rows.get(s.name)!, await s.measure(ctx));
    }
  for (const row of rows.values()) {
    const base = row.baseline ? rows.get(row.baseline) : undefined;
    if (base?.rps && row.rps) row.ratio = row.rps / base.rps;
    if (base?.moderateP50Ms !== undefined && row.moderateP50Ms !== undefined) row.addedP50Ms = row.moderateP50Ms - base.moderateP50Ms;
  }
} finally {
  await stopAll();
  await upstream.stop();
}

const result = {
  bench: "outrigger",
  time: new Date().toISOString(),
  machine: { cpus: machineCpus, model: cpuInfo()[0]?.model ?? "unknown", memGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg1m: { before: round2(loadBefore), after: round2(loadavg()[0]!) } },
  pinning: proxyCpus ? { proxy: `taskset -c ${proxyCpus}`, loadAndUpstream: `taskset -c ${loadCpus}` } : null,
  loadGenerator: gen.name,
  upstream: upstream.kind,
  settings,
  rows: [...rows.values()],
  targets: evaluateTargets(rows),
};
printReport(result);
if (profileDir) process.stdout.write(await summarizeProfiles(profileDir, 30));
process.stdout.write(JSON.stringify(result) + "\n");
await writeFile(path.join(dir, "result.json"), JSON.stringify(result, null, 2));
if (!profileDir) await rm(dir, { recursive: true, force: true });
else process.stderr.write(`profiles kept in ${profileDir}\n`);
// Exit explicitly (the exit hook kills any child a half-started scenario left behind) rather than wait on handles.
process.exit(0);

interface Phase {
  load: LoadResult;
  proxyCpu: number;
  loadCoreBusy: number;
}

/** One load phase with the proxy's and the load core's CPU measured around it. */
async function phase(g: LoadGenerator, t: Target, spec: { connections: number; durationSec: number; delayMs?: number }): Promise<Phase> {
  const before = await sampleAll(t.measured);
  const upBefore = await sample(upstream.proc.pid);
  const load = await g.run({ url: t.url, host: t.host, ...spec });
  const after = await sampleAll(t.measured);
  const upAfter = await sample(upstream.proc.pid);
  const loadCpu = load.generatorCpuSeconds + (upAfter.cpuSeconds - upBefore.cpuSeconds);
  return { load, proxyCpu: after.cpuSeconds - before.cpuSeconds, loadCoreBusy: loadCpu / load.durationSec };
}

async function startSidecar(opts: SidecarStart): Promise<SidecarHandle> {
  const admin = await freePort();
  const args = ["sidecar", ...opts.args, "--admin", String(admin)];
  if (opts.config) {
    const file = path.join(dir, `sidecar-${admin}.yaml`);
    await writeFile(file, typeof opts.config === "function" ? opts.config(admin) : opts.config);
    args.push("--config", file, "--no-watch");
  }
  const node = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const t0 = performance.now();
  const p = spawnPinned(`sidecar:${admin}`, process.execPath, [...node, opts.cli ?? CLI, ...args], proxyCpus, { OUTRIGGER_LOG_LEVEL: "warn", ...opts.env }, path.join(dir, `sidecar-${admin}.log`));
  const readyMs = await waitFor200(`http://127.0.0.1:${admin}/readyz`, t0, 15_000, p);
  return { measured: p, adminPort: admin, readyMs, stop: () => p.stop() };
}

function select(every: Scenario[], only: string[] | undefined): Scenario[] {
  const all = every.filter((s) => !(s.optional && s.unavailable?.()));
  if (!only?.length) return all;
  const names = new Set(only.flatMap((o) => o.split(",")).map((s) => s.trim()).filter(Boolean));
  for (const n of names) if (!all.some((s) => s.name === n)) throw new Error(`--only ${n}: no such row (try --list)`);
  // Baselines come along, so every ratio is from the same run.
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      const b = names.has(s.name) ? baselineOf(s) : null;
      if (b && !names.has(b)) {
        names.add(b);
        grew = true;
      }
    }
  }
  return all.filter((s) => names.has(s.name));
}

function baselineOf(s: Scenario): string | null {
  if (s.baseline !== undefined) return s.baseline || null;
  return s.name === "direct" ? null : "direct";
}

function lastLine(s: string): string {
  const lines = s.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /alert|error|emerg/i.test(l)) ?? lines[0] ?? s;
}

function push<T>(m: Map<string, T[]>, k: string, v: T) {
  const a = m.get(k) ?? [];
  a.push(v);
  m.set(k, a);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function progress(msg: string) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}`);
  else process.stderr.write(`${msg}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
