// Processes under benchmark: spawned pinned to a core (taskset), sampled from /proc (RSS, CPU seconds), stopped.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import http from "node:http";

const CLK_TCK = clockTicks();

/** A process whose memory and CPU a row reports. */
export interface Measured {
  label: string;
  pid: number;
}

export interface Spawned extends Measured {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export function hasBinary(name: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const TASKSET = hasBinary("taskset");

/**
 * Spawns a program, pinned to `cpus` with taskset when available (taskset execs, so the pid is the program's).
 * `stdoutFile`: stdout goes to that file, as a container runtime would take it, instead of a pipe this runner
 * must drain (a sidecar's access log would otherwise be throttled by the runner's busy core).
 */
export function spawnPinned(label: string, cmd: string, args: string[], cpus: string | undefined, env?: NodeJS.ProcessEnv, stdoutFile?: string): Spawned {
  const [file, argv] = cpus && TASKSET ? [TASKSET, ["-c", cpus, cmd, ...args]] : [cmd, args];
  const outFd = stdoutFile ? openSync(stdoutFile, "w") : undefined;
  const child = spawn(file, argv, { stdio: ["ignore", outFd ?? "pipe", "pipe"], env: { ...process.env, ...env } });
  if (outFd !== undefined) closeSync(outFd);
  live.add(child);
  let out = "";
  const keep = (d: Buffer) => {
    if (out.length < 64_000) out += d; // bounded: only for diagnostics when something fails
  };
  child.stdout?.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      live.delete(child);
      r(code);
    }),
  );
  return {
    label,
    pid: child.pid!,
    child,
    output: () => out + (stdoutFile ? tail(stdoutFile) : ""),
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Pins this (the runner) process, all its threads, to `cpus` so it stays off the proxy core. */
export function pinSelf(cpus: string): boolean {
  if (!TASKSET) return false;
  try {
    execFileSync(TASKSET, ["-a", "-p", "-c", cpus, String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface ProcSample {
  rssBytes: number;
  cpuSeconds: number;
}

/** RSS and user+system CPU of one process from /proc. */
export async function sample(pid: number): Promise<ProcSample> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, "utf8"), readFile(`/proc/${pid}/status`, "utf8")]);
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { rssBytes: rss ? Number(rss[1]) * 1024 : 0, cpuSeconds: ticks / CLK_TCK };
}

export async function sampleAll(ms: Measured[]): Promise<ProcSample> {
  const s = await Promise.all(ms.map((m) => sample(m.pid).catch(() => ({ rssBytes: 0, cpuSeconds: 0 }))));
  return { rssBytes: s.reduce((a, b) => a + b.rssBytes, 0), cpuSeconds: s.reduce((a, b) => a + b.cpuSeconds, 0) };
}

/** Polls a URL until it answers 200; returns the ms since `since` (performance.now()). */
export async function waitFor200(url: string, since: number, timeoutMs = 10_000, proc?: Spawned): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.label} exited early (${proc.child.exitCode}): ${proc.output().slice(-2000)}`);
    const status = await new Promise<number>((resolve) => {
      const req = http.get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", () => resolve(0));
      req.setTimeout(1_000, () => req.destroy());
    });
    if (status === 200) return performance.now() - since;
    await sleep(2);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms${proc ? `: ${proc.output().slice(-2000)}` : ""}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-4000);
  } catch {
    return "";
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
