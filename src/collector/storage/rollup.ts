// RED rollups: spans folded at ingest into fixed time buckets per series (service/route/peer/version), so
// rates and percentiles over any window cost a few bucket merges, independent of how many spans are kept.
// Latency uses a log-scale histogram (±6% relative error), the same idea as HDR/DDSketch at a fraction of the code.
import type { SpanRecord } from "../otlp/normalize.js";

const GROWTH = 1.12;
const MIN_MS = 0.05;
export const LATENCY_BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export const bucketOf = (ms: number): number => (ms <= MIN_MS ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH))));
/** The upper bound (ms) of latency bucket i. */
export const upperOf = (i: number): number => MIN_MS * GROWTH ** i;

export interface Counts {
  requests: number;
  errors: number;
  status4xx: number;
  status429: number;
  status5xx: number;
  faults: number;
  circuitOpen: number;
  authzDenied: number;
}

export interface Bucket extends Counts {
  latency: Uint32Array;
}

export type SeriesKind = "server" | "client";

export interface SeriesKey {
  kind: SeriesKind;
  service: string;
  /** server: the service's version; client: the backend subset the split chose (when the span says). */
  version: string;
  route: string;
  /** client: the called service; server: "" or "(external)" for requests that entered the mesh here. */
  peer: string;
}

export interface Series extends SeriesKey {
  id: string;
  buckets: Map<number, Bucket>;
}

export interface RollupOptions {
  bucketMs: number;
  retentionMs: number;
  maxSeries: number;
}

const COUNT_FIELDS = ["requests", "errors", "status4xx", "status429", "status5xx", "faults", "circuitOpen", "authzDenied"] as const;

export const emptyCounts = (): Counts => ({ requests: 0, errors: 0, status4xx: 0, status429: 0, status5xx: 0, faults: 0, circuitOpen: 0, authzDenied: 0 });

export function isError(s: Pick<SpanRecord, "status" | "httpStatus">): boolean {
  return s.httpStatus >= 500 || (s.httpStatus === 0 && s.status === 2);
}

export class Rollups {
  readonly series = new Map<string, Series>();
  droppedSeries = 0;
  constructor(readonly opts: RollupOptions) {}

  add(span: SpanRecord): void {
    if (span.kind !== "server" && span.kind !== "client") return;
    const key: SeriesKey = {
      kind: span.kind,
      service: span.service,
      version: span.kind === "server" ? span.version : span.backend,
      route: span.route,
      peer: span.kind === "client" ? span.peer : span.parentSpanId ? "" : "(external)",
    };
    const id = `${key.kind}\u0000${key.service}\u0000${key.version}\u0000${key.route}\u0000${key.peer}`;
    let s = this.series.get(id);
    if (!s) {
      if (this.series.size >= this.opts.maxSeries) {
        this.droppedSeries++;
        return;
      }
      s = { ...key, id, buckets: new Map() };
      this.series.set(id, s);
    }
    const t = Math.floor((span.startMs + span.durationMs) / this.opts.bucketMs) * this.opts.bucketMs;
    let b = s.buckets.get(t);
    if (!b) {
      b = { ...emptyCounts(), latency: new Uint32Array(LATENCY_BUCKETS) };
      s.buckets.set(t, b);
    }
    b.requests++;
    if (isError(span)) b.errors++;
    const st = span.httpStatus;
    if (st >= 400 && st < 500) b.status4xx++;
    if (st === 429) b.status429++;
    if (st >= 500) b.status5xx++;
    if (span.errorCode === "FAULT_INJECTED" || span.attributes["outrigger.fault"] !== undefined) b.faults++;
    if (span.errorCode === "CIRCUIT_OPEN") b.circuitOpen++;
    if (span.errorCode === "AUTHZ_DENIED") b.authzDenied++;
    b.latency[bucketOf(span.durationMs)]!++;
  }

  /** Drops buckets older than retention, and series left empty. */
  prune(now = Date.now()): void {
    const cutoff = now - this.opts.retentionMs;
    for (const [id, s] of this.series) {
      for (const t of s.buckets.keys()) if (t < cutoff) s.buckets.delete(t);
      if (s.buckets.size === 0) this.series.delete(id);
    }
  }
}

export interface Aggregate extends Counts {
  latency: Uint32Array;
}

export const emptyAggregate = (): Aggregate => ({ ...emptyCounts(), latency: new Uint32Array(LATENCY_BUCKETS) });

export function mergeInto(into: Aggregate, b: Bucket | Aggregate): void {
  for (const f of COUNT_FIELDS) into[f] += b[f];
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.latency[i]! += b.latency[i]!;
}

/** Aggregates a series' buckets in [from, to). */
export function aggregate(s: Series, from: number, to: number, into: Aggregate = emptyAggregate()): Aggregate {
  for (const [t, b] of s.buckets) if (t >= from && t < to) mergeInto(into, b);
  return into;
}

/** Percentile (0..1) in ms from a latency histogram: the geometric middle of the bucket holding the rank. */
export function percentile(h: Uint32Array, q: number): number | null {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i]!;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return i === 0 ? MIN_MS : Math.sqrt(upperOf(i - 1) * upperOf(i));
  }
  return upperOf(h.length - 1);
}
