// A real control-plane process for tests: its own data dir, a free port, a bootstrap operator token.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, runCli, waitForHttp, type Proc } from "./processes.js";
import { freePort } from "./ports.js";

export interface ControlPlaneProc {
  proc: Proc;
  url: string;
  port: number;
  dataDir: string;
  /** Runs an outrigger CLI command against this control plane with the given token (default: operator). */
  cli(args: string[], token?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  operator: string;
  stop(): Promise<void>;
}

export async function newDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "outrigger-cp-"));
}

/** Creates a token offline in the data dir (or redis store). */
export async function makeToken(dataDir: string, role: string, extra: string[] = [], store?: string): Promise<string> {
  const r = await cli(["token", "create", "--data", dataDir, "--role", role, ...extra, ...(store ? ["--store", store] : [])]);
  if (r.code !== 0) throw new Error(`token create failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

export async function startControlPlane(opts: { dataDir?: string; port?: number; store?: string; operator?: string } = {}): Promise<ControlPlaneProc> {
  const dataDir = opts.dataDir ?? (await newDataDir());
  const port = opts.port ?? (await freePort());
  const operator = opts.operator ?? (await makeToken(dataDir, "operator", ["--name", "test-operator"], opts.store));
  const proc = runCli(["control-plane", "--data", dataDir, "--listen", `127.0.0.1:${port}`, ...(opts.store ? ["--store", opts.store] : [])], { env: { OUTRIGGER_LOG_LEVEL: "warn" } });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForHttp(`${url}/healthz`, 30_000),
      proc.exited.then((code) => {
        throw new Error(`control plane exited early (${code}): ${proc.stderr()}`);
      }),
    ]);
  } catch (e) {
    await proc.kill("SIGKILL");
    throw e;
  }
  return {
    proc,
    url,
    port,
    dataDir,
    operator,
    cli: (args, token = operator) => cli(args, { env: { OUTRIGGER_CONTROL_PLANE: url, OUTRIGGER_TOKEN: token, NO_COLOR: "1" } }),
    async stop() {
      await proc.kill("SIGTERM");
    },
  };
}

/** Creates a token through the running control plane's API (no CLI process: faster under load). */
export async function apiToken(cp: { url: string; operator: string }, role: string, service?: string): Promise<string> {
  const res = await fetch(`${cp.url}/v1/tokens`, { method: "POST", headers: { authorization: `Bearer ${cp.operator}`, "content-type": "application/json" }, body: JSON.stringify({ role, ...(service ? { service } : {}) }) });
  const body = (await res.json()) as { token: string; error?: { message: string } };
  if (res.status !== 201) throw new Error(`token create failed ${res.status}: ${body.error?.message}`);
  return body.token;
}

/** GET on the API with the operator token (or another). */
export async function apiGet<T = any>(cp: { url: string; operator: string }, path: string, token = cp.operator): Promise<T> {
  const res = await fetch(`${cp.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const resource = (kind: string, name: string, spec: unknown) => JSON.stringify({ apiVersion: "outrigger.dev/v1alpha1", kind, metadata: { name }, spec });

/** Applies resources through the HTTP API (faster than the CLI where the CLI is not what is tested). */
export async function applyResources(cp: { url: string; operator: string }, docs: string[], message = "test"): Promise<{ version: number }> {
  const res = await fetch(`${cp.url}/v1/apply`, {
    method: "POST",
    headers: { authorization: `Bearer ${cp.operator}`, "content-type": "application/json" },
    body: JSON.stringify({ files: [{ name: "test.yaml", text: docs.join("\n---\n") }], message }),
  });
  const body = (await res.json()) as { version: number; error?: { message: string } };
  if (res.status >= 300) throw new Error(`apply failed ${res.status}: ${body.error?.message}`);
  return body;
}

/** Polls until `check` returns a truthy value, or throws with the last value seen. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export async function readyDetail(adminPort: number): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
  return { status: r.status, body: await r.json() };
}
