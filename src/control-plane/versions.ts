// Config as versions: an apply is a transaction (validate with the one schema → new version → store → push).
// A rejected change stores nothing and is audited with its reason. Rollback is a new version, never a rewrite.
import { compilePlan, hashResources } from "../config/compile.js";
import { API_VERSION } from "../config/kinds/common.js";
import { ConfigError, formatIssue, parseResources, type ConfigIssue } from "../config/load.js";
import type { AnyResource } from "../config/schema.js";
import { MeshError } from "../errors.js";
import type { Principal } from "./auth/principal.js";
import { diffResources, keyOf, type ResourceChange } from "./diff.js";
import type { AuditEntry } from "./extension.js";
import type { ConfigVersion, Store, VersionAction } from "./store/store.js";

/** Kinds that stay local to each sidecar (its own listeners and app); the control plane refuses them. */
export const LOCAL_KINDS = new Set(["Sidecar"]);

/** Stands in for a sidecar when the mesh-wide set is checked, so references (routes → backends) are validated. */
const PROBE_SIDECAR = { apiVersion: API_VERSION, kind: "Sidecar", metadata: { name: "control-plane-check" }, spec: { service: "control-plane-check", app: "127.0.0.1:1" } } as AnyResource;

export interface ChangeResult {
  version: number;
  hash: string;
  changes: ResourceChange[];
  dryRun: boolean;
  /** true when the change produced the same resources as the head (no new version). */
  unchanged: boolean;
}

export class ConfigVersions {
  constructor(
    private readonly store: Store,
    private readonly audit: (e: AuditEntry) => Promise<void>,
  ) {}

  /** Parses documents with the sidecar's own loader, so errors name file:line:column and field. */
  parse(files: { name: string; text: string }[]): AnyResource[] {
    const issues: ConfigIssue[] = [];
    const out: AnyResource[] = [];
    for (const f of files) {
      try {
        for (const l of parseResources(f.text, f.name)) {
          if (LOCAL_KINDS.has(l.resource.kind)) issues.push({ file: f.name, line: l.line, column: 1, path: "kind", message: `${l.resource.kind} resources are local to each sidecar (its file or flags) and are not served by the control plane` });
          else out.push(l.resource);
        }
      } catch (err) {
        if (err instanceof ConfigError) issues.push(...err.issues);
        else throw err;
      }
    }
    const seen = new Set<string>();
    for (const r of out) {
      if (seen.has(keyOf(r))) issues.push({ file: "<apply>", line: 0, column: 0, path: keyOf(r), message: "the same resource appears twice in one apply" });
      seen.add(keyOf(r));
    }
    if (issues.length) throw new ConfigError(issues);
    return out;
  }

  /** Checks a whole mesh-wide set the way a sidecar will compile it (references, duplicates, policies). */
  check(resources: readonly AnyResource[]): void {
    compilePlan([PROBE_SIDECAR, ...resources], "<mesh config>");
  }

  async apply(who: Principal, files: { name: string; text: string }[], opts: { dryRun?: boolean; message?: string }): Promise<ChangeResult> {
    return this.change(who, "apply", opts, (current) => {
      const incoming = this.parse(files);
      const next = new Map(current.map((r) => [keyOf(r), r]));
      for (const r of incoming) next.set(keyOf(r), r);
      return [...next.values()];
    });
  }

  async delete(who: Principal, kind: string, name: string, opts: { dryRun?: boolean; message?: string }): Promise<ChangeResult> {
    return this.change(who, "delete", { ...opts, message: opts.message ?? `delete ${kind}/${name}` }, (current) => {
      const next = current.filter((r) => !(r.kind.toLowerCase() === kind.toLowerCase() && r.metadata.name === name));
      if (next.length === current.length) throw new MeshError("NOT_FOUND", `No ${kind} named "${name}" in the current version.`);
      return next;
    });
  }

  async rollback(who: Principal, to: number | undefined, opts: { dryRun?: boolean; message?: string }): Promise<ChangeResult> {
    const head = await this.store.head();
    const target = to ?? (head ? head.version - 1 : 0);
    const v = target > 0 ? await this.store.version(target) : undefined;
    if (!v) {
      const reason = head ? `there is no version ${target} (versions 1..${head.version} exist)` : "there is no config yet";
      await this.audit({ who: who.subject, action: "rollback", result: "rejected", reason });
      throw new MeshError("NOT_FOUND", `Cannot roll back: ${reason}.`);
    }
    return this.change(who, "rollback", { ...opts, message: opts.message ?? `rollback to version ${target}` }, () => v.resources, { rolledBackTo: target });
  }

  /** Changes on this replica run one at a time, so compare-and-set retries only happen between replicas. */
  private queue: Promise<unknown> = Promise.resolve();

  private change(who: Principal, action: VersionAction, opts: { dryRun?: boolean; message?: string }, build: (current: AnyResource[]) => AnyResource[], extra: Record<string, unknown> = {}): Promise<ChangeResult> {
    const run = this.queue.then(() => this.changeNow(who, action, opts, build, extra));
    this.queue = run.catch(() => {});
    return run;
  }

  private async changeNow(who: Principal, action: VersionAction, opts: { dryRun?: boolean; message?: string }, build: (current: AnyResource[]) => AnyResource[], extra: Record<string, unknown>): Promise<ChangeResult> {
    // Compare-and-set loop: with several replicas another writer may win; re-read the head and rebuild.
    for (let attempt = 0; attempt < 50; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 5)));
      const head = await this.store.head();
      const current = head?.resources ?? [];
      let next: AnyResource[];
      try {
        next = sortResources(build(current));
        this.check(next);
      } catch (err) {
        if (err instanceof ConfigError) {
          if (!opts.dryRun) await this.audit({ who: who.subject, action, result: "rejected", reason: err.issues.map(formatIssue).join("; "), ...extra });
          throw err;
        }
        throw err;
      }
      const hash = hashResources(next);
      const changes = diffResources(current, next);
      const result = { version: (head?.version ?? 0) + 1, hash, changes, dryRun: !!opts.dryRun, unchanged: head !== undefined && hash === head.hash };
      if (opts.dryRun) return { ...result, version: head?.version ?? 0 };
      if (result.unchanged) return { ...result, version: head!.version };
      const v: ConfigVersion = { version: result.version, hash, author: who.subject, time: new Date().toISOString(), message: opts.message ?? "", action, resources: next };
      if (await this.store.append(v)) {
        await this.audit({ who: who.subject, action, version: v.version, result: "ok", ...(opts.message ? { message: opts.message } : {}), changes: changes.map((c) => `${c.change} ${c.key}`), ...extra });
        return result;
      }
    }
    throw new MeshError("CONFLICT", "Other writers kept changing the config; retry the apply.");
  }
}

export const sortResources = (rs: AnyResource[]) => [...rs].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
