// `outrigger demo` as a real process for tests: started on a free port range, parsed for its dashboard URL,
// viewer token and data dir, and stopped with SIGINT as a user would.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli, type Proc } from "./processes.js";

export interface Demo {
  proc: Proc;
  base: number;
  collector: string;
  token: string;
  dir: string;
  env: Record<string, string>;
  stop(): Promise<number | null>;
}

const free = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** A base port whose 50 ports are free right now. */
export async function freeRange(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    // Below Linux's ephemeral range (32768+), so other tests' client sockets and freePort() never land in it.
    const base = 10_000 + Math.floor(Math.random() * 220) * 100;
    let ok = true;
    for (let p = base; p < base + 50 && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error("no free range of 50 loopback ports");
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");

export async function startDemo(args: string[] = [], timeoutMs = 120_000): Promise<Demo> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const base = await freeRange();
    const proc = runCli(["demo", "--base-port", String(base), ...args]);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && proc.child.exitCode === null && !/Config and logs: /.test(proc.stdout())) await sleep(100);
    const out = strip(proc.stdout());
    const m = /#token=(\S+)/.exec(out);
    const d = /Config and logs: (\S+)/.exec(out);
    if (m && d) {
      const collector = `http://127.0.0.1:${base + 1}`;
      const dir = d[1]!;
      const env: Record<string, string> = {};
      for (const m of (await readFile(`${dir}/demo.env`, "utf8")).matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
      return {
        proc,
        base,
        collector,
        token: m[1]!,
        dir,
        env,
        async stop() {
          if (proc.child.exitCode !== null) return proc.child.exitCode;
          proc.child.kill("SIGINT");
          const code = await Promise.race([proc.exited, sleep(20_000).then(() => "timeout" as const)]);
          if (code === "timeout") {
            await proc.kill("SIGKILL");
            throw new Error("demo did not exit within 20 s of SIGINT");
          }
          return code;
        },
      };
    }
    await proc.kill("SIGKILL");
    // Exit 3 means a port in the range was taken meanwhile: try another range.
    if (proc.child.exitCode !== 3) throw new Error(`demo did not start: ${proc.stdout()} ${proc.stderr()}`);
  }
  throw new Error("demo could not find free ports in 3 attempts");
}

/** Process ids whose parent is `pid` (Linux /proc via ps). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
