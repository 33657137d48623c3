// `outrigger demo`: a live mesh on loopback in one command. The collector, four sample services (payments as a
// 90/10 canary of v1 and v2) each behind its own sidecar process, and steady traffic; prints the dashboard URL
// and a guided scenario. Ctrl-C stops every process it started and removes its temp data unless --keep.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { allPorts, layout, writeDemoFiles, type DemoFiles } from "../demo/mesh.js";
import { startSampleService } from "../demo/sample-service.js";
import { bootstrapControlPlane } from "../demo/control-plane.js";
import { TrafficGenerator } from "../demo/traffic.js";
import { bold, dim, EXIT, green, red, useColour } from "./output.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

interface DemoOptions {
  basePort: string;
  rate: string;
  dir?: string;
  keep: boolean;
  controlPlane: boolean;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("Start a live mesh on loopback: collector + dashboard, four services behind sidecars, a canary and steady traffic")
    .option("--base-port <port>", "first of the ports the demo uses (it needs base..base+49)", "18000")
    .option("--rate <rps>", "steady traffic, requests per second into the frontend", "20")
    .option("--dir <dir>", "where to write config, tokens and logs (default: a temp dir)")
    .option("--keep", "keep the data dir after Ctrl-C", false)
    .option("--no-control-plane", "run the sidecars from local files instead of a control plane")
    .addHelpText("after", "\nEverything listens on 127.0.0.1. Ctrl-C stops every process the demo started.")
    .action(async (opts: DemoOptions) => {
      await runDemo(opts);
    });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function waitReady(url: string, child: ChildProcess, name: string, log: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}); see ${log}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {}
    await sleep(50);
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms; see ${log}`);
}

interface Running {
  children: { name: string; child: ChildProcess }[];
  apps: http.Server[];
  traffic?: TrafficGenerator;
  statusTimer?: NodeJS.Timeout;
}

async function stopAll(r: Running): Promise<void> {
  clearInterval(r.statusTimer);
  await r.traffic?.stop();
  await Promise.all(
    r.children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await Promise.all(
    r.apps.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
}

const PLAYBOOKS = fileURLToPath(new URL("../../../docs/playbooks/", import.meta.url));

export function scenario(f: DemoFiles, controlPlane: boolean): string[] {
  const apply = (file: string, msg: string) => (controlPlane ? `outrigger apply -f ${file} -m "${msg}"` : `cat ${file} >> "$OUTRIGGER_MESH_FILE"`);
  const shift = `sed -i 's/subset: v1, weight: [0-9]*/subset: v1, weight: 50/; s/subset: v2, weight: [0-9]*/subset: v2, weight: 50/' "$OUTRIGGER_MESH_FILE"`;
  return [
    bold("Try this in a second terminal:"),
    `  source ${f.env}          ${dim("# the demo's addresses and tokens")}`,
    `  outrigger top                 ${dim("# 1. services and routes, live")}`,
    `  ${dim("# 2. shift the canary to 50/50; the dashboard's canary panel follows within seconds")}`,
    `  ${shift}${controlPlane ? ` \\
    && outrigger apply -f "$OUTRIGGER_MESH_FILE" -m "canary 50/50"` : ""}`,
    `  ${dim("# 3. inject a fault: half of checkout's calls to inventory fail with 503 (watch the anomalies panel)")}`,
    `  ${apply(path.join(PLAYBOOKS, "fault.yaml"), "chaos: inventory 503s")}`,
    `  ${dim("# 4. hit a rate limit: checkout may call payments 5 times a second, the rest get 429")}`,
    `  ${apply(path.join(PLAYBOOKS, "rate-limit.yaml"), "limit checkout to payments")}`,
    `  ${dim("# 5. roll back to the config the demo started with")}`,
    controlPlane ? `  outrigger history && outrigger rollback --to 1 -m "back to the start"` : `  cp "$OUTRIGGER_DEMO_DIR/mesh.original.yaml" "$OUTRIGGER_MESH_FILE"`,
    `  ${dim(`# more: ${PLAYBOOKS} (canary, feature-gated telemetry, troubleshooting, rollback)`)}`,
  ];
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const base = Number(opts.basePort);
  const rate = Number(opts.rate);
  if (!Number.isInteger(base) || base < 1024 || base > 65_000) {
    process.stderr.write(`error: --base-port must be an integer in 1024..65000 (got "${opts.basePort}")\n`);
    process.exit(EXIT.USAGE);
  }
  if (!(rate > 0 && rate <= 500)) {
    process.stderr.write(`error: --rate must be in (0, 500] requests per second (got "${opts.rate}")\n`);
    process.exit(EXIT.USAGE);
  }
  const tty = useColour() || Boolean(process.stdout.isTTY);
  const l = layout(base);
  const busy: number[] = [];
  for (const p of allPorts(l)) if (!(await portFree(p))) busy.push(p);
  if (busy.length) {
    process.stderr.write(`error: ports already in use on 127.0.0.1: ${busy.join(", ")}. Stop what uses them or pick another range with --base-port.\n`);
    process.exit(EXIT.UNAVAILABLE);
  }
  const ownDir = !opts.dir;
  const dir = opts.dir ? path.resolve(opts.dir) : await mkdtemp(path.join(tmpdir(), "outrigger-demo-"));
  const files = await writeDemoFiles(dir, l, opts.controlPlane);
  await writeFile(path.join(dir, "mesh.original.yaml"), await readFile(files.mesh, "utf8"));
  const running: Running = { children: [], apps: [] };
  let operatorToken = "";
  let cpUrl = "";
  const started = Date.now();
  const step = (msg: string) => process.stdout.write(tty ? `${dim("…")} ${msg}\r` : `${msg}\n`);
  const done = (msg: string) => process.stdout.write(tty ? `\x1b[2K${green("✓")} ${msg}\n` : `ok: ${msg}\n`);

  let stopping = false;
  const shutdown = async (code: number, why?: string) => {
    if (stopping) return;
    stopping = true;
    if (tty) process.stdout.write("\x1b[2K\r");
    if (why) process.stderr.write(`${red("error:", process.stderr)} ${why}\n`);
    process.stdout.write("stopping the demo…\n");
    await stopAll(running);
    if (ownDir && !opts.keep) await rm(dir, { recursive: true, force: true });
    process.stdout.write(ownDir && !opts.keep ? `stopped; removed ${dir}\n` : `stopped; data kept in ${dir}\n`);
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  const spawnCli = (name: string, args: string[]) => {
    const log = path.join(dir, "logs", `${name}.log`);
    const fd = openSync(log, "a");
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", fd, fd], env: { ...process.env, NO_COLOR: "1" } });
    closeSync(fd);
    running.children.push({ name, child });
    child.once("exit", (code, signal) => {
      if (!stopping) void shutdown(EXIT.FAILURE, `${name} exited unexpectedly (${code ?? signal}); see ${log}`);
    });
    return { child, log };
  };

  try {
    let cpArgs: (name: string) => string[] = () => [];
    let collectorConfig = ["--config-file", files.mesh];
    if (opts.controlPlane) {
      step(`starting the control plane on 127.0.0.1:${l.controlPlane}`);
      const cp = await bootstrapControlPlane(dir, l);
      const proc = spawnCli("control-plane", ["control-plane", "--data", cp.dataDir, "--listen", `127.0.0.1:${l.controlPlane}`]);
      await waitReady(`${cp.url}/healthz`, proc.child, "control plane", proc.log, 30_000);
      const v = await cp.apply(files.mesh, "demo: initial mesh (payments canary 90/10)");
      done(`control plane    ${cp.url}  (config version ${v})`);
      operatorToken = cp.operatorToken;
      cpUrl = cp.url;
      cpArgs = (name) => ["--control-plane", cp.url, "--token-file", cp.sidecarTokenFiles.get(name)!, "--last-known-good", path.join(dir, "last-known-good", `${name}.json`), "--instance", name];
      collectorConfig = ["--control-plane", cp.url, "--control-plane-token-file", cp.viewerTokenFile];
    }
    // Everything else starts at once (each process takes a moment to load); readiness is awaited together.
    step(`starting the collector and ${l.services.length} sidecars`);
    const col = spawnCli("collector", ["collector", "--listen", `127.0.0.1:${l.collector}`, "--data", path.join(dir, "collector"), "--token-file", files.tokenFile, ...collectorConfig, "--bucket", "2s"]);
    const sidecars = l.services.map((s) => ({ s, ...spawnCli(s.name, ["sidecar", "--config", files.sidecars.get(s.name)!, ...(opts.controlPlane ? cpArgs(s.name) : s.name === "checkout" ? ["--config", files.mesh] : [])]) }));
    for (const s of l.services) {
      running.apps.push(await startSampleService({ name: s.service, version: s.version, port: s.app, calls: s.calls, outbound: `127.0.0.1:${s.outbound}`, latencyMs: s.latencyMs, errorRatio: s.errorRatio, propagateErrors: true }));
    }
    await Promise.all([
      waitReady(`http://127.0.0.1:${l.collector}/healthz`, col.child, "collector", col.log, 60_000).then(() => done(`collector        http://127.0.0.1:${l.collector}  (OTLP /v1/traces, dashboard /)`)),
      ...sidecars.map(({ s, child, log }) =>
        waitReady(`http://127.0.0.1:${s.admin}/readyz`, child, `${s.name} sidecar`, log, 60_000).then(() =>
          done(`${s.name.padEnd(16)} app :${s.app}  sidecar inbound :${s.inbound}${s.calls.length ? `  outbound :${s.outbound}` : ""}  admin :${s.admin}`),
        ),
      ),
    ]);
  } catch (err) {
    await shutdown(EXIT.FAILURE, (err as Error).message);
    return;
  }

  const frontend = l.services.find((s) => s.name === "frontend")!;
  const collectorUrl = `http://127.0.0.1:${l.collector}`;
  await writeFile(
    files.env,
    [
      `# outrigger demo: source this file in a second terminal`,
      `# \`outrigger\` runs this checkout's CLI (npx would install and rebuild the package first)`,
      `outrigger() { node ${JSON.stringify(MAIN)} "$@"; }`,
      `export OUTRIGGER_DEMO_DIR=${dir}`,
      `export OUTRIGGER_COLLECTOR_URL=${collectorUrl}`,
      `export OUTRIGGER_COLLECTOR_TOKEN=${files.tokens.viewer}`,
      `export OUTRIGGER_MESH_FILE=${files.mesh}`,
      ...(cpUrl ? [`export OUTRIGGER_CONTROL_PLANE=${cpUrl}`, `export OUTRIGGER_TOKEN=${operatorToken}`] : []),
      `export FRONTEND_URL=http://127.0.0.1:${frontend.inbound}`,
      `export CHECKOUT_OUTBOUND=http://127.0.0.1:${l.services.find((s) => s.name === "checkout")!.outbound}`,
      ...l.services.map((s) => `export ${s.name.toUpperCase().replace(/-/g, "_")}_ADMIN=http://127.0.0.1:${s.admin}`),
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  running.traffic = new TrafficGenerator(`http://127.0.0.1:${frontend.inbound}`, rate);
  running.traffic.start();
  done(`traffic          ${rate} requests/s into frontend (http://127.0.0.1:${frontend.inbound})`);

  process.stdout.write(
    [
      "",
      bold(`Outrigger demo is up in ${((Date.now() - started) / 1000).toFixed(1)} s. Dashboard:`),
      `  ${green(`${collectorUrl}/#token=${files.tokens.viewer}`)}`,
      "",
      ...scenario(files, opts.controlPlane),
      "",
      dim(`Config and logs: ${dir}   Ctrl-C stops everything${ownDir && !opts.keep ? " and removes it" : ""}.`),
      "",
    ].join("\n"),
  );

  let last = { sent: 0, at: Date.now() };
  const status = async () => {
    const t = running.traffic!.stats;
    let spans = "";
    try {
      const r = await fetch(`${collectorUrl}/api/stats`, { headers: { authorization: `Bearer ${files.tokens.viewer}` }, signal: AbortSignal.timeout(800) });
      const s = (await r.json()) as { received: { spans: number }; traces: number };
      spans = `  collector: ${s.received.spans} spans, ${s.traces} traces`;
    } catch {}
    const now = Date.now();
    const rps = ((t.sent - last.sent) * 1000) / Math.max(1, now - last.at);
    last = { sent: t.sent, at: now };
    const codes = [...t.byStatus].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}:${n}`).join(" ");
    const line = `traffic: ${t.sent} sent (${rps.toFixed(0)}/s), ${t.errors} errors [${codes}]${spans}`;
    if (stopping) return;
    process.stdout.write(tty ? `\x1b[2K\r${dim(line)}` : `${line}\n`);
  };
  running.statusTimer = setInterval(() => void status(), tty ? 1000 : 10_000);
}
