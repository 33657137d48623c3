// Quick flags (`outrigger sidecar --service ... --endpoint svc=a,b`) -> the same resources a config file holds.
import { API_VERSION } from "./kinds/common.js";
import type { AnyResource } from "./schema.js";
import { parseResources } from "./load.js";

export interface QuickFlags {
  service?: string;
  version?: string;
  app?: string;
  inbound?: string;
  outbound?: string;
  admin?: string;
  envelope?: string;
  endpoint?: string[];
}

/** Builds Sidecar and Backend resources, validated by the same schema as files (errors name the flag). */
export function resourcesFromFlags(f: QuickFlags, existing: AnyResource[]): AnyResource[] {
  const out: unknown[] = [];
  const hasSidecar = existing.some((r) => r.kind === "Sidecar");
  if (!hasSidecar || f.service || f.app) {
    if (!f.service || !f.app) throw new Error("--service and --app are required unless --config has a Sidecar resource");
    out.push({
      apiVersion: API_VERSION,
      kind: "Sidecar",
      metadata: { name: f.service },
      spec: {
        service: f.service,
        app: f.app,
        ...(f.version ? { version: f.version } : {}),
        ...(f.inbound ? { inbound: f.inbound } : {}),
        ...(f.outbound ? { outbound: f.outbound } : {}),
        ...(f.admin ? { admin: f.admin } : {}),
        ...(f.envelope ? { envelope: f.envelope } : {}),
      },
    });
  }
  for (const e of f.endpoint ?? []) {
    const eq = e.indexOf("=");
    if (eq <= 0) throw new Error(`--endpoint "${e}": expected SERVICE=HOST:PORT[,HOST:PORT...]`);
    const name = e.slice(0, eq);
    const addrs = e.slice(eq + 1).split(",").filter(Boolean);
    out.push({ apiVersion: API_VERSION, kind: "Backend", metadata: { name }, spec: { endpoints: addrs.map((address) => ({ address })) } });
  }
  // Validate through the one schema; errors point at the flag rather than a file.
  if (!out.length) return [];
  return parseResources(out.map((o) => JSON.stringify(o)).join("\n---\n"), "<flags>").map((l) => l.resource);
}
