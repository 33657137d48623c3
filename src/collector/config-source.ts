// The config timeline and configured splits, read from the control plane's API (GET /v1/versions and
// GET /v1/resources?kind=Route with a viewer token). Cached briefly so dashboards polling every second cost
// the control plane one request per interval; when it is unreachable the last answer is served, marked stale.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { request } from "undici";
import { loadFiles } from "../config/load.js";

export interface TimelineEntry {
  version: number;
  time: string;
  author: string;
  message: string;
  action: string;
  hash: string;
}

export interface ConfiguredSplit {
  route: string;
  /** The service the split sends to (the backendRefs' name). */
  service: string;
  rule: number;
  /** subset (or version) -> weight, as configured. */
  weights: Record<string, number>;
}

export interface ConfigView {
  source: string;
  stale: boolean;
  error?: string;
  version: number;
  timeline: TimelineEntry[];
  splits: ConfiguredSplit[];
}

export interface ConfigSource {
  view(): Promise<ConfigView>;
}

export const noConfigSource: ConfigSource = {
  view: async () => ({ source: "none", stale: false, version: 0, timeline: [], splits: [] }),
};

type Obj = Record<string, any>;

/** Weighted backendRefs of every Route rule with more than one backend, by subset. */
export function splitsOf(routes: Obj[]): ConfiguredSplit[] {
  const out: ConfiguredSplit[] = [];
  for (const r of routes) {
    const rules = (r?.spec?.rules ?? []) as Obj[];
    rules.forEach((rule, i) => {
      const refs = (rule?.backendRefs ?? []) as Obj[];
      if (refs.length < 2) return;
      const weights: Record<string, number> = {};
      for (const ref of refs) weights[String(ref.subset ?? ref.name)] = (weights[String(ref.subset ?? ref.name)] ?? 0) + Number(ref.weight ?? 1);
      out.push({ route: String(r?.metadata?.name ?? ""), service: String(refs[0]?.name ?? ""), rule: i, weights });
    });
  }
  return out;
}

export class ControlPlaneSource implements ConfigSource {
  private cached: ConfigView | undefined;
  private at = 0;
  private inflight: Promise<ConfigView> | undefined;
  constructor(readonly url: string, readonly token: string | undefined, readonly cacheMs = 1000) {}

  async view(): Promise<ConfigView> {
    if (this.cached && Date.now() - this.at < this.cacheMs) return this.cached;
    this.inflight ??= this.fetch().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async get(path: string): Promise<Obj> {
    const res = await request(this.url.replace(/\/+$/, "") + path, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    const body = (await res.body.json().catch(() => ({}))) as Obj;
    if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode} ${body?.error?.code ?? ""} ${body?.error?.message ?? ""}`.trim());
    return body;
  }

  private async fetch(): Promise<ConfigView> {
    try {
      const [versions, routes] = await Promise.all([this.get("/v1/versions?limit=200"), this.get("/v1/resources?kind=Route")]);
      const timeline: TimelineEntry[] = ((versions.items ?? []) as Obj[]).map((v) => ({
        version: Number(v.version),
        time: String(v.time ?? ""),
        author: String(v.author ?? ""),
        message: String(v.message ?? ""),
        action: String(v.action ?? ""),
        hash: String(v.hash ?? ""),
      }));
      timeline.sort((a, b) => a.version - b.version);
      this.cached = { source: this.url, stale: false, version: Number(routes.version ?? timeline.at(-1)?.version ?? 0), timeline, splits: splitsOf((routes.items ?? []) as Obj[]) };
    } catch (err) {
      this.cached = { ...(this.cached ?? { source: this.url, version: 0, timeline: [], splits: [] }), stale: true, error: (err as Error).message };
    }
    this.at = Date.now();
    return this.cached;
  }
}

/**
 * Config read from local files (a mesh run from files, without a control plane): configured splits from the
 * Route resources, and a timeline with one entry each time the files' content changes while the collector runs.
 */
export class FileConfigSource implements ConfigSource {
  private readonly timeline: TimelineEntry[] = [];
  private lastHash = "";
  private splits: ConfiguredSplit[] = [];
  private error: string | undefined;
  private at = 0;
  private inflight: Promise<void> | undefined;
  constructor(readonly files: string[], readonly cacheMs = 1000, readonly maxEntries = 500) {}

  async view(): Promise<ConfigView> {
    if (Date.now() - this.at >= this.cacheMs) {
      this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
      await this.inflight;
    }
    return { source: `file:${this.files.join(",")}`, stale: this.error !== undefined, ...(this.error ? { error: this.error } : {}), version: this.timeline.at(-1)?.version ?? 0, timeline: [...this.timeline], splits: this.splits };
  }

  private async refresh(): Promise<void> {
    this.at = Date.now();
    try {
      const texts = await Promise.all(this.files.map((f) => readFile(f, "utf8")));
      const hash = createHash("sha256").update(texts.join("\u0000")).digest("hex").slice(0, 16);
      if (hash === this.lastHash) return;
      const resources = (await loadFiles(this.files)).map((l) => l.resource);
      this.splits = splitsOf(resources.filter((r) => r.kind === "Route") as Obj[]);
      this.error = undefined;
      this.lastHash = hash;
      this.timeline.push({ version: (this.timeline.at(-1)?.version ?? 0) + 1, time: new Date().toISOString(), author: "file", message: this.timeline.length ? `${this.files.map((f) => path.basename(f)).join(", ")} changed` : "loaded", action: this.timeline.length ? "change" : "load", hash });
      if (this.timeline.length > this.maxEntries) this.timeline.shift();
    } catch (err) {
      // A bad edit keeps the last good view, as sidecars keep their last good config.
      this.error = (err as Error).message.slice(0, 2000);
    }
  }
}
