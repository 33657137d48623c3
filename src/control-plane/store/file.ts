// The embedded store: one file per config version (append-only, written crash-safely), the audit log as
// JSON lines (appended and fsynced), tokens in one atomically replaced file. Registry and sidecar status are
// live state and stay in memory: sidecars re-register within one heartbeat after a restart.
import { EventEmitter } from "node:events";
import { mkdir, open, readdir, readFile, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { hashResources } from "../../config/compile.js";
import type { AuditEntry } from "../extension.js";
import { TEMP_MARK, syncDir, writeFileAtomic } from "./atomic.js";
import { LIMITS, sameEndpoint, type ConfigVersion, type EndpointRecord, type SidecarStatus, type Store, type StoreEvent, type TokenRecord } from "./store.js";

const VERSION_FILE = /^v(\d{8})\.json$/;
const fileOf = (n: number) => `v${String(n).padStart(8, "0")}.json`;

export class FileStore implements Store {
  readonly kind = "file" as const;
  private readonly events = new EventEmitter();
  private headVersion: ConfigVersion | undefined;
  private numbers: number[] = [];
  private tokenMap = new Map<string, TokenRecord>();
  private readonly sidecarMap = new Map<string, SidecarStatus>();
  private readonly endpointMap = new Map<string, EndpointRecord>();
  private auditFile: FileHandle | undefined;
  /** Writes are serialised: one version at a time, one audit line at a time. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  private get versionsDir() {
    return join(this.dir, "versions");
  }

  private async loadTokens(): Promise<void> {
    try {
      const tokens = JSON.parse(await readFile(join(this.dir, "tokens.json"), "utf8")) as TokenRecord[];
      this.tokenMap = new Map(tokens.map((t) => [t.id, t]));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  async open(): Promise<void> {
    await mkdir(this.versionsDir, { recursive: true, mode: 0o700 });
    // A crash mid-write leaves only a temp file behind: the rename never happened, so it is not a version.
    for (const d of [this.dir, this.versionsDir])
      for (const f of await readdir(d)) if (f.includes(TEMP_MARK)) await rm(join(d, f), { force: true });
    const numbers = (await readdir(this.versionsDir)).map((f) => VERSION_FILE.exec(f)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
    numbers.forEach((n, i) => {
      if (n !== i + 1) throw new Error(`${this.versionsDir}: history has a gap (expected version ${i + 1}, found ${n}); refusing to start`);
    });
    this.numbers = numbers;
    if (numbers.length) {
      const head = await this.version(numbers[numbers.length - 1]!);
      if (!head) throw new Error(`${this.versionsDir}: cannot read the newest version`);
      if (hashResources(head.resources) !== head.hash) throw new Error(`${this.versionsDir}/${fileOf(head.version)}: content hash mismatch`);
      this.headVersion = head;
    }
    await this.loadTokens();
    this.auditFile = await open(join(this.dir, "audit.jsonl"), "a", 0o600);
    await syncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.writing.catch(() => {});
    await this.auditFile?.close();
    this.auditFile = undefined;
  }

  async head() {
    return this.headVersion;
  }

  async version(n: number): Promise<ConfigVersion | undefined> {
    if (this.headVersion?.version === n) return this.headVersion;
    try {
      return JSON.parse(await readFile(join(this.versionsDir, fileOf(n)), "utf8")) as ConfigVersion;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async versions(limit: number): Promise<ConfigVersion[]> {
    const pick = this.numbers.slice(-limit).reverse();
    return (await Promise.all(pick.map((n) => this.version(n)))).filter((v): v is ConfigVersion => !!v);
  }

  append(v: ConfigVersion): Promise<boolean> {
    const run = this.writing.then(async () => {
      if (v.version !== (this.headVersion?.version ?? 0) + 1) return false;
      await writeFileAtomic(join(this.versionsDir, fileOf(v.version)), JSON.stringify(v, null, 1), 0o600);
      this.headVersion = v;
      this.numbers.push(v.version);
      this.emit({ type: "version", version: v.version });
      return true;
    });
    this.writing = run.catch(() => {});
    return run;
  }

  appendAudit(e: AuditEntry): Promise<void> {
    const run = this.writing.then(async () => {
      if (!this.auditFile) throw new Error("store is closed");
      await this.auditFile.write(JSON.stringify(e) + "\n");
      await this.auditFile.datasync();
    });
    this.writing = run.catch(() => {});
    return run;
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    let text = "";
    try {
      text = await readFile(join(this.dir, "audit.jsonl"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const out: AuditEntry[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // a line torn by a crash mid-append: skip it, the entries before it are intact
      }
    }
    return out.slice(-limit);
  }

  putToken(t: TokenRecord): Promise<void> {
    const run = this.writing.then(async () => {
      const next = new Map(this.tokenMap).set(t.id, t);
      await writeFileAtomic(join(this.dir, "tokens.json"), JSON.stringify([...next.values()], null, 1), 0o600);
      this.tokenMap = next;
    });
    this.writing = run.catch(() => {});
    return run;
  }

  async token(id: string) {
    // `outrigger token create --data DIR` may add tokens while the server runs: re-read on a miss.
    if (!this.tokenMap.has(id)) await this.loadTokens();
    return this.tokenMap.get(id);
  }

  async tokens() {
    return [...this.tokenMap.values()];
  }

  async putSidecar(s: SidecarStatus): Promise<void> {
    if (!this.sidecarMap.has(s.instance) && this.sidecarMap.size >= LIMITS.sidecars) return;
    this.sidecarMap.set(s.instance, s);
  }

  async sidecars() {
    return [...this.sidecarMap.values()];
  }

  async putEndpoint(e: EndpointRecord): Promise<boolean> {
    const key = `${e.service}/${e.instance}`;
    const prev = this.endpointMap.get(key);
    if (!prev && this.endpointMap.size >= LIMITS.endpoints) throw new Error(`registry is full (${LIMITS.endpoints} endpoints)`);
    this.endpointMap.set(key, e);
    const changed = !sameEndpoint(prev, e);
    if (changed) this.emit({ type: "registry" });
    return changed;
  }

  async removeEndpoint(service: string, instance: string): Promise<boolean> {
    const removed = this.endpointMap.delete(`${service}/${instance}`);
    if (removed) this.emit({ type: "registry" });
    return removed;
  }

  async endpoints(): Promise<EndpointRecord[]> {
    const now = Date.now();
    return [...this.endpointMap.values()].filter((e) => e.expiresAt > now);
  }

  async expireEndpoints(now: number): Promise<boolean> {
    let removed = false;
    for (const [k, e] of this.endpointMap)
      if (e.expiresAt <= now) {
        this.endpointMap.delete(k);
        removed = true;
      }
    if (removed) this.emit({ type: "registry" });
    return removed;
  }

  onEvent(fn: (e: StoreEvent) => void): void {
    this.events.on("event", fn);
  }

  private emit(e: StoreEvent) {
    this.events.emit("event", e);
  }
}
