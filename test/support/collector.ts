// A real `outrigger collector` process for tests, with a fresh data dir and one token per role.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";
import { runCli, waitForHttp, type Proc } from "./processes.js";

export interface TestCollector {
  url: string;
  port: number;
  dir: string;
  tokens: { sender: string; viewer: string; operator: string; sender2: string };
  proc: Proc;
  /** Stops the process (SIGTERM) and, unless keepData, removes its data dir. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export const TEST_TOKENS = {
  sender: "sender-token-0123456789abcdef",
  sender2: "sender2-token-0123456789abcdef",
  viewer: "viewer-token-0123456789abcdef",
  operator: "operator-token-0123456789abcdef",
};

export async function writeTokenFile(dir: string): Promise<string> {
  const file = path.join(dir, "tokens.yaml");
  await writeFile(
    file,
    [
      "tokens:",
      `  - { name: checkout-sidecar, role: sender, token: ${TEST_TOKENS.sender} }`,
      `  - { name: payments-sidecar, role: sidecar, token: ${TEST_TOKENS.sender2} }`,
      `  - { name: alice, role: viewer, token: ${TEST_TOKENS.viewer} }`,
      `  - { name: ops, role: operator, token: ${TEST_TOKENS.operator} }`,
      "",
    ].join("\n"),
  );
  return file;
}

export async function startCollector(args: string[] = [], opts: { dir?: string; port?: number } = {}): Promise<TestCollector> {
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), "outrigger-collector-")));
  const tokenFile = await writeTokenFile(dir);
  const port = opts.port ?? (await freePort());
  const proc = runCli(["collector", "--listen", `127.0.0.1:${port}`, "--data", path.join(dir, "data"), "--token-file", tokenFile, "--bucket", "1s", ...args]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForHttp(`${url}/healthz`, 30_000),
      proc.exited.then((code) => {
        throw new Error(`collector exited early (${code}): ${proc.stderr()} ${proc.stdout()}`);
      }),
    ]);
  } catch (e) {
    await proc.kill("SIGKILL");
    throw e;
  }
  return {
    url,
    port,
    dir,
    tokens: TEST_TOKENS,
    proc,
    async stop(o = {}) {
      await proc.kill("SIGTERM");
      if (!o.keepData && !opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GET a collector API path with a token; returns status and parsed JSON (or text). */
export async function api(c: { url: string }, pathAndQuery: string, token?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(c.url + pathAndQuery, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: r.status, body, headers: r.headers };
}

/** Polls until `check` returns a truthy value, or throws with the last value after the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not met after ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)})`);
}
