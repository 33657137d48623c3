// Real processes for integration tests: the built CLI, waited on until ready, always killed afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => {
    live.delete(child);
    r(code);
  }));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}) {
  const p = runCli(args, opts);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Polls a URL until it answers 2xx, or throws after the deadline. */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(25);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/** Starts `outrigger sidecar` with the given args and waits until its admin /readyz is 200. */
export async function startSidecar(args: string[], adminPort: number, env?: NodeJS.ProcessEnv): Promise<Proc> {
  const p = runCli(["sidecar", ...args, "--admin", String(adminPort)], env ? { env } : {});
  try {
    await Promise.race([
      waitForHttp(`http://127.0.0.1:${adminPort}/readyz`, 30_000),
      p.exited.then((code) => {
        throw new Error(`sidecar exited early (${code}): ${p.stderr()}`);
      }),
    ]);
  } catch (e) {
    await p.kill("SIGKILL");
    throw e;
  }
  return p;
}
