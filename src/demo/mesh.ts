// The demo mesh's shape: four services (payments as v1 and v2), their ports from one base, and the config files
// each sidecar loads. frontend → checkout → payments (90/10 canary) and inventory.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import { API_VERSION } from "../config/kinds/common.js";

export interface DemoService {
  /** Instance name (payments-v1), service name (payments) and version. */
  name: string;
  service: string;
  version: string;
  calls: string[];
  latencyMs: number;
  errorRatio: number;
  app: number;
  inbound: number;
  outbound: number;
  admin: number;
}

export interface DemoLayout {
  base: number;
  controlPlane: number;
  collector: number;
  services: DemoService[];
}

const SHAPE: Omit<DemoService, "app" | "inbound" | "outbound" | "admin">[] = [
  { name: "frontend", service: "frontend", version: "v1", calls: ["checkout"], latencyMs: 2, errorRatio: 0 },
  { name: "checkout", service: "checkout", version: "v1", calls: ["payments", "inventory"], latencyMs: 4, errorRatio: 0 },
  { name: "payments-v1", service: "payments", version: "v1", calls: [], latencyMs: 12, errorRatio: 0 },
  { name: "payments-v2", service: "payments", version: "v2", calls: [], latencyMs: 8, errorRatio: 0.01 },
  { name: "inventory", service: "inventory", version: "v1", calls: [], latencyMs: 5, errorRatio: 0 },
];

/** Ports: control plane base, collector base+1, apps base+10.., inbound +20.., outbound +30.., admin +40... */
export function layout(base: number): DemoLayout {
  return {
    base,
    controlPlane: base,
    collector: base + 1,
    services: SHAPE.map((s, i) => ({ ...s, app: base + 10 + i, inbound: base + 20 + i, outbound: base + 30 + i, admin: base + 40 + i })),
  };
}

export const allPorts = (l: DemoLayout): number[] => [l.controlPlane, l.collector, ...l.services.flatMap((s) => [s.app, s.inbound, s.outbound, s.admin])];

const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec });

const backend = (l: DemoLayout, svc: string) =>
  res("Backend", svc, { endpoints: l.services.filter((s) => s.service === svc).map((s) => ({ address: `127.0.0.1:${s.inbound}`, labels: { version: s.version } })) });

/**
 * The routing config of checkout's calls (backends payments and inventory, the payments canary route), in one
 * file the checkout sidecar reloads when it changes. Only checkout loads it: a sidecar never lists its own
 * listeners as a backend (loop prevention), so each service's outbound config stays with its caller.
 * Written by hand rather than serialized so that each backendRef is one line a playbook can edit with sed.
 */
export function meshYaml(l: DemoLayout, weights: { v1: number; v2: number } = { v1: 90, v2: 10 }, controlPlane = false): string {
  if (controlPlane) return controlPlaneMeshYaml(weights);
  const eps = (svc: string) =>
    l.services
      .filter((s) => s.service === svc)
      .map((s) => `    - { address: "127.0.0.1:${s.inbound}", labels: { version: ${s.version} } }`)
      .join("\n");
  return `# The demo mesh's routing for checkout's calls: backends and the payments canary.
# The checkout sidecar reloads this file when it changes; the collector reads its routes.
apiVersion: ${API_VERSION}
kind: Backend
metadata: { name: inventory }
spec:
  endpoints:
${eps("inventory")}
---
apiVersion: ${API_VERSION}
kind: Backend
metadata: { name: payments }
spec:
  endpoints:
${eps("payments")}
---
${canaryRouteYaml(weights)}`;
}

/** The payments canary route, shared by the file-config mesh and the control-plane mesh. */
function canaryRouteYaml(weights: { v1: number; v2: number }): string {
  return `apiVersion: ${API_VERSION}
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
    - name: canary
      matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs:
        - { name: payments, subset: v1, weight: ${weights.v1} }
        - { name: payments, subset: v2, weight: ${weights.v2} }
`;
}

/**
 * The mesh as applied to the control plane: backends without static endpoints (each sidecar registers its own
 * inbound address and version, and the control plane pushes the endpoint sets), subsets declared by label, and
 * the payments canary route.
 */
export function controlPlaneMeshYaml(weights: { v1: number; v2: number } = { v1: 90, v2: 10 }): string {
  const backend = (name: string, subsets: string[]) => `apiVersion: ${API_VERSION}
kind: Backend
metadata: { name: ${name} }
spec:
  endpoints: []   # filled from the control plane's registry
${subsets.length ? `  subsets:\n${subsets.map((v) => `    - { name: ${v}, labels: { version: ${v} } }`).join("\n")}\n` : ""}`;
  return `# The demo mesh, applied to the control plane: \`outrigger apply -f mesh.yaml -m "why"\` makes a new version.
${backend("checkout", [])}---
${backend("inventory", [])}---
${backend("payments", ["v1", "v2"])}---
${canaryRouteYaml(weights)}`;
}

/** One sidecar's own file: its listeners, the backends it calls (frontend: checkout) and its telemetry. */
export function sidecarYaml(l: DemoLayout, s: DemoService, token: string, controlPlane = false): string {
  const own = controlPlane ? "" : s.calls.filter((c) => c !== "payments" && c !== "inventory").map((c) => `---\n${stringify(backend(l, c))}`).join("");
  return `# The ${s.name} sidecar: listeners, telemetry export to the collector (with this sidecar's own token).
apiVersion: ${API_VERSION}
kind: Sidecar
metadata: { name: ${s.name} }
spec:
  service: ${s.service}
  version: ${s.version}
  app: 127.0.0.1:${s.app}
  inbound: 127.0.0.1:${s.inbound}
${s.calls.length ? `  outbound: 127.0.0.1:${s.outbound}\n` : ""}  admin: 127.0.0.1:${s.admin}
---
apiVersion: ${API_VERSION}
kind: TelemetryPolicy
metadata: { name: ${s.name} }
spec:
  tracing: { enabled: true, sampler: { type: always } }
  metrics: { otlp: { enabled: true, interval: 5s } }
  export: { endpoint: "http://127.0.0.1:${l.collector}", token: "${token}", interval: 1s }
${own}`;
}

export interface DemoFiles {
  dir: string;
  mesh: string;
  sidecars: Map<string, string>;
  tokenFile: string;
  tokens: { viewer: string; operator: string; senders: Map<string, string> };
  env: string;
}

const secret = () => randomBytes(18).toString("base64url");

/** Writes every config file of the demo under dir and returns where they are. */
export async function writeDemoFiles(dir: string, l: DemoLayout, controlPlane = false): Promise<DemoFiles> {
  await mkdir(path.join(dir, "sidecars"), { recursive: true });
  await mkdir(path.join(dir, "logs"), { recursive: true });
  const senders = new Map(l.services.map((s) => [s.name, secret()]));
  const tokens = { viewer: secret(), operator: secret(), senders };
  const tokenFile = path.join(dir, "collector-tokens.yaml");
  await writeFile(
    tokenFile,
    stringify({ tokens: [{ name: "demo-viewer", role: "viewer", token: tokens.viewer }, { name: "demo-operator", role: "operator", token: tokens.operator }, ...[...senders].map(([name, token]) => ({ name: `${name}-sidecar`, role: "sender", token }))] }),
    { mode: 0o600 },
  );
  const mesh = path.join(dir, "mesh.yaml");
  await writeFile(mesh, meshYaml(l, undefined, controlPlane));
  const sidecars = new Map<string, string>();
  for (const s of l.services) {
    const f = path.join(dir, "sidecars", `${s.name}.yaml`);
    await writeFile(f, sidecarYaml(l, s, senders.get(s.name)!, controlPlane), { mode: 0o600 });
    sidecars.set(s.name, f);
  }
  const env = path.join(dir, "demo.env");
  return { dir, mesh, sidecars, tokenFile, tokens, env };
}
