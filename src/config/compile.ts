// Validated resources -> Plan: everything the request path needs, built once per config version.
// A config swap replaces the whole Plan reference atomically; the hot path only looks things up.
import { createHash } from "node:crypto";
import type { AnyResource, ResourceOf } from "./schema.js";
import { ConfigError, type ConfigIssue } from "./load.js";
import { durationOr, parseAddress, type Address } from "./units.js";
import { compileBackend, type BackendPlan } from "./compile/backends.js";
import { compileRoutes, type RouteTable } from "./compile/routes.js";
import type { MeshSpec } from "./kinds/mesh.js";
import { compileTraffic, type TrafficPlan } from "./compile/traffic.js";
import { compileTelemetry, type TelemetryPlan } from "./compile/telemetry.js";
import { compileSecurity, type SecurityPlan } from "./compile/security.js";

export interface SidecarPlan {
  service: string;
  version: string;
  namespace: string;
  environment: string;
  labels: Record<string, string>;
  app: Address;
  inbound: Address | undefined;
  outbound: Address | undefined;
  admin: Address | undefined;
  /** Loopback listener for the app envelope (POST /v1/envelope). */
  envelope: Address | undefined;
  limits: {
    maxHeaderBytes: number;
    maxHeaderCount: number;
    maxUriBytes: number;
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    requestTimeoutMs: number;
    drainTimeoutMs: number;
    maxConnectionsPerEndpoint: number;
  };
}

export interface Plan {
  /** Content hash of the resources: what /config and ACKs report. */
  readonly version: string;
  readonly resources: readonly AnyResource[];
  readonly sidecar: SidecarPlan;
  readonly mesh: Readonly<MeshSpec>;
  readonly backends: ReadonlyMap<string, BackendPlan>;
  readonly outbound: RouteTable;
  readonly inbound: RouteTable;
  readonly traffic: TrafficPlan;
  readonly telemetry: TelemetryPlan;
  readonly security: SecurityPlan;
}

const of = <K extends AnyResource["kind"]>(resources: readonly AnyResource[], kind: K) =>
  resources.filter((r): r is Extract<AnyResource, { kind: K }> => r.kind === kind);

export function compilePlan(resources: readonly AnyResource[], source = "<config>"): Plan {
  const issues: ConfigIssue[] = [];
  const fail = (path: string, message: string) => issues.push({ file: source, line: 0, column: 0, path, message });

  const sidecars = of(resources, "Sidecar");
  if (sidecars.length !== 1) fail("kind", `exactly one Sidecar resource is required (found ${sidecars.length})`);
  const meshes = of(resources, "Mesh");
  if (meshes.length > 1) fail("kind", `at most one Mesh resource is allowed (found ${meshes.length})`);
  if (issues.length) throw new ConfigError(issues);
  const sidecar = compileSidecar(sidecars[0]!);

  const backends = new Map<string, BackendPlan>();
  for (const b of of(resources, "Backend")) {
    if (backends.has(b.metadata.name)) fail(`Backend/${b.metadata.name}`, "duplicate Backend name");
    backends.set(b.metadata.name, compileBackend(b.metadata.name, b.spec));
  }
  // Loop prevention (as linkerd2-proxy's prevent_loop): no endpoint may be one of this sidecar's own listeners.
  const own = new Set([sidecar.inbound?.key, sidecar.outbound?.key, sidecar.admin?.key, sidecar.envelope?.key].filter(Boolean));
  for (const b of backends.values())
    for (const ep of b.endpoints)
      if (own.has(ep.key)) fail(`Backend/${b.name}.spec.endpoints`, `endpoint ${ep.key} is one of this sidecar's own listeners: requests would loop`);
  if (own.has(sidecar.app.key)) fail("Sidecar.spec.app", `app address ${sidecar.app.key} is one of this sidecar's own listeners: requests would loop`);

  const routes = of(resources, "Route");
  for (const r of routes)
    r.spec.rules.forEach((rule, i) =>
      (rule.backendRefs ?? []).forEach((ref, j) => {
        const b = backends.get(ref.name);
        const path = `Route/${r.metadata.name}.spec.rules[${i}].backendRefs[${j}]`;
        if (!b) fail(`${path}.name`, `no Backend named "${ref.name}"`);
        else if (ref.subset && !b.subsets.has(ref.subset)) fail(`${path}.subset`, `Backend "${ref.name}" has no subset "${ref.subset}" (known: ${[...b.subsets.keys()].join(", ") || "none"})`);
      }),
    );
  const traffic = compileTraffic(resources, fail);
  const telemetry = compileTelemetry(resources, fail);
  const security = compileSecurity(resources, fail);
  if (issues.length) throw new ConfigError(issues);

  return {
    version: hashResources(resources),
    resources,
    sidecar,
    mesh: meshes[0]?.spec ?? {},
    backends,
    outbound: compileRoutes(routes.filter((r) => (r.spec.direction ?? "outbound") === "outbound")),
    inbound: compileRoutes(routes.filter((r) => r.spec.direction === "inbound")),
    traffic,
    telemetry,
    security,
  };
}

function compileSidecar(r: ResourceOf<"Sidecar">): SidecarPlan {
  const s = r.spec;
  const l = s.limits ?? {};
  return {
    service: s.service,
    version: s.version ?? "unknown",
    namespace: s.namespace ?? r.metadata.namespace ?? "default",
    environment: s.environment ?? "dev",
    labels: s.labels ?? {},
    app: parseAddress(s.app),
    inbound: s.inbound ? parseAddress(s.inbound) : undefined,
    outbound: s.outbound ? parseAddress(s.outbound) : undefined,
    admin: s.admin ? parseAddress(s.admin) : undefined,
    envelope: s.envelope ? parseAddress(s.envelope) : undefined,
    limits: {
      maxHeaderBytes: l.maxHeaderBytes ?? 16 * 1024,
      maxHeaderCount: l.maxHeaderCount ?? 100,
      maxUriBytes: l.maxUriBytes ?? 8 * 1024,
      connectTimeoutMs: durationOr(l.connectTimeout, 5_000),
      headersTimeoutMs: durationOr(l.headersTimeout, 30_000),
      idleTimeoutMs: durationOr(l.idleTimeout, 60_000),
      requestTimeoutMs: durationOr(l.requestTimeout, 300_000),
      drainTimeoutMs: durationOr(l.drainTimeout, 10_000),
      maxConnectionsPerEndpoint: l.maxConnectionsPerEndpoint ?? 128,
    },
  };
}

export function hashResources(resources: readonly AnyResource[]): string {
  return createHash("sha256").update(stableStringify(resources)).digest("hex").slice(0, 16);
}

export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}
