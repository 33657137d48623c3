// Config files for integration tests: Kubernetes-style YAML written to a fresh temp dir.
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface SidecarYaml {
  service?: string;
  app: number;
  inbound?: number;
  outbound?: number;
  admin: number;
  /** Sidecar.spec.limits, as YAML flow-map fields, e.g. { headersTimeout: "300ms" }. */
  limits?: Record<string, string | number>;
  /** Backend name -> endpoint ports on 127.0.0.1; or a full spec object. */
  backends?: Record<string, number[] | { ports: number[]; loadBalancer?: string; passiveHealth?: Record<string, string> }>;
}

export function sidecarYaml(o: SidecarYaml): string {
  const lines = [
    "apiVersion: outrigger.dev/v1alpha1",
    "kind: Sidecar",
    `metadata: { name: ${o.service ?? "checkout"} }`,
    "spec:",
    `  service: ${o.service ?? "checkout"}`,
    `  app: 127.0.0.1:${o.app}`,
    ...(o.inbound ? [`  inbound: ${o.inbound}`] : []),
    ...(o.outbound ? [`  outbound: ${o.outbound}`] : []),
    `  admin: ${o.admin}`,
  ];
  if (o.limits) lines.push(`  limits: ${JSON.stringify(o.limits)}`);
  for (const [name, b] of Object.entries(o.backends ?? {})) {
    const spec = Array.isArray(b) ? { ports: b } : b;
    lines.push(
      "---",
      "apiVersion: outrigger.dev/v1alpha1",
      "kind: Backend",
      `metadata: { name: ${name} }`,
      "spec:",
      ...(spec.loadBalancer ? [`  loadBalancer: ${spec.loadBalancer}`] : []),
      ...(spec.passiveHealth ? [`  passiveHealth: ${JSON.stringify(spec.passiveHealth)}`] : []),
      `  endpoints: ${JSON.stringify(spec.ports.map((p) => ({ address: `127.0.0.1:${p}` })))}`,
    );
  }
  return lines.join("\n") + "\n";
}

export interface TempDir {
  dir: string;
  write(name: string, text: string | Buffer): string;
  remove(): void;
}

export function tempDir(prefix = "outrigger-test-"): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      return f;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
