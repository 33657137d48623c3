// In-process sidecars for tests that need to swap plans or read state directly; real listeners on loopback.
import pino from "pino";
import { compilePlan, type Plan } from "../../src/config/compile.js";
import { parseResources } from "../../src/config/load.js";
import { Sidecar } from "../../src/sidecar/server.js";
import type { AnyResource } from "../../src/config/schema.js";

export const API = "outrigger.dev/v1alpha1";

export function planOf(resources: object[], env?: NodeJS.ProcessEnv): Plan {
  const parsed = parseResources(resources.map((r) => JSON.stringify(r)).join("\n---\n"), "<test>").map((l) => l.resource as AnyResource);
  return env ? withEnv(env, () => compilePlan(parsed, "<test>")) : compilePlan(parsed, "<test>");
}

function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  const saved: NodeJS.ProcessEnv = {};
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k];
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  try {
    return fn();
  } finally {
    for (const k of Object.keys(saved)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

export const sidecarResource = (spec: Record<string, unknown>) => ({ apiVersion: API, kind: "Sidecar", metadata: { name: String(spec.service) }, spec });
export const backendResource = (name: string, ports: number[]) => ({ apiVersion: API, kind: "Backend", metadata: { name }, spec: { endpoints: ports.map((p) => ({ address: `127.0.0.1:${p}` })) } });
export const telemetryResource = (spec: Record<string, unknown>) => ({ apiVersion: API, kind: "TelemetryPolicy", metadata: { name: "telemetry" }, spec });

/** Starts a sidecar in this process with a silent (or given) logger; close it in after(). */
export async function startInProcess(plan: Plan, logger = pino({ level: "silent" })): Promise<Sidecar> {
  const s = new Sidecar(plan, { logger });
  await s.start();
  return s;
}

/** Reads one sample from Prometheus text: the line whose name matches and whose labels include all given ones. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}
