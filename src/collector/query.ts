// The read side: RED per service and per edge over a window, per-route percentiles, time series for charts,
// observed vs configured splits. Everything is computed from the rollups, never by scanning spans.
import type { ConfiguredSplit } from "./config-source.js";
import { aggregate, emptyAggregate, percentile, type Aggregate, type Series } from "./storage/rollup.js";
import type { Store } from "./store.js";

export interface Red {
  requests: number;
  rps: number;
  errors: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  status4xx: number;
  status429: number;
  status5xx: number;
  faults: number;
  circuitOpen: number;
  authzDenied: number;
}

export interface Window {
  from: number;
  to: number;
  /** Seconds actually covered (the current bucket is partial). */
  seconds: number;
}

export function windowOf(store: Store, windowMs: number, now = Date.now()): Window {
  const b = store.rollups.opts.bucketMs;
  const n = Math.max(1, Math.ceil(windowMs / b));
  const from = Math.floor(now / b) * b - (n - 1) * b;
  return { from, to: now + 1, seconds: Math.max(0.001, (now - from) / 1000) };
}

const round = (v: number | null, d = 3) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

export function red(a: Aggregate, seconds: number): Red {
  return {
    requests: a.requests,
    rps: round(a.requests / seconds)!,
    errors: a.errors,
    errorRate: round(a.requests ? a.errors / a.requests : 0, 4)!,
    p50: round(percentile(a.latency, 0.5)),
    p95: round(percentile(a.latency, 0.95)),
    p99: round(percentile(a.latency, 0.99)),
    status4xx: a.status4xx,
    status429: a.status429,
    status5xx: a.status5xx,
    faults: a.faults,
    circuitOpen: a.circuitOpen,
    authzDenied: a.authzDenied,
  };
}

function group(store: Store, w: Window, pick: (s: Series) => string | undefined): Map<string, Aggregate> {
  const out = new Map<string, Aggregate>();
  for (const s of store.rollups.series.values()) {
    const key = pick(s);
    if (key === undefined) continue;
    let a = out.get(key);
    if (!a) out.set(key, (a = emptyAggregate()));
    aggregate(s, w.from, w.to, a);
  }
  return out;
}

export interface ServiceRow extends Red {
  service: string;
  versions: string[];
}

export function services(store: Store, w: Window): ServiceRow[] {
  const versions = new Map<string, Set<string>>();
  const names = new Set<string>();
  for (const s of store.rollups.series.values()) {
    names.add(s.service);
    if (s.kind === "client" && s.peer) names.add(s.peer);
    if (s.kind === "server" && s.version) {
      if (!versions.has(s.service)) versions.set(s.service, new Set());
      versions.get(s.service)!.add(s.version);
    }
  }
  const agg = group(store, w, (s) => (s.kind === "server" ? s.service : undefined));
  return [...names].sort().map((service) => ({ service, versions: [...(versions.get(service) ?? [])].sort(), ...red(agg.get(service) ?? emptyAggregate(), w.seconds) }));
}

export interface EdgeRow extends Red {
  source: string;
  target: string;
}

/** Edges from client spans (caller -> the peer it called) and entry edges "(external)" -> service from root server spans. */
export function edges(store: Store, w: Window): EdgeRow[] {
  const agg = group(store, w, (s) => (s.kind === "client" && s.peer ? `${s.service}\u0000${s.peer}` : s.kind === "server" && s.peer === "(external)" ? `(external)\u0000${s.service}` : undefined));
  return [...agg].map(([k, a]) => {
    const [source, target] = k.split("\u0000") as [string, string];
    return { source, target, ...red(a, w.seconds) };
  }).sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target));
}

export interface RouteRow extends Red {
  service: string;
  route: string;
  direction: "inbound" | "outbound";
}

export function routes(store: Store, w: Window, service?: string): RouteRow[] {
  const agg = group(store, w, (s) => (!service || s.service === service ? `${s.service}\u0000${s.route}\u0000${s.kind}` : undefined));
  return [...agg].map(([k, a]) => {
    const [svc, route, kind] = k.split("\u0000") as [string, string, string];
    return { service: svc, route, direction: kind === "server" ? ("inbound" as const) : ("outbound" as const), ...red(a, w.seconds) };
  }).sort((a, b) => a.service.localeCompare(b.service) || a.direction.localeCompare(b.direction) || a.route.localeCompare(b.route));
}

export interface TimeSeries {
  step: number;
  t: number[];
  rps: number[];
  errorPct: (number | null)[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

/** Inbound RED of a service (optionally one route) per bucket over the window, for charts. */
export function timeseries(store: Store, windowMs: number, service: string, route?: string, now = Date.now()): TimeSeries {
  const b = store.rollups.opts.bucketMs;
  const n = Math.max(1, Math.ceil(windowMs / b));
  const first = Math.floor(now / b) * b - (n - 1) * b;
  const out: TimeSeries = { step: b / 1000, t: [], rps: [], errorPct: [], p50: [], p95: [], p99: [] };
  const matching = [...store.rollups.series.values()].filter((s) => s.kind === "server" && s.service === service && (!route || s.route === route));
  for (let i = 0; i < n; i++) {
    const t = first + i * b;
    const a = emptyAggregate();
    for (const s of matching) aggregate(s, t, t + b, a);
    const secs = i === n - 1 ? Math.max(0.001, (now - t) / 1000) : b / 1000;
    out.t.push(t / 1000);
    out.rps.push(round(a.requests / secs)!);
    out.errorPct.push(a.requests ? round((100 * a.errors) / a.requests, 2) : null);
    out.p50.push(round(percentile(a.latency, 0.5)));
    out.p95.push(round(percentile(a.latency, 0.95)));
    out.p99.push(round(percentile(a.latency, 0.99)));
  }
  return out;
}

export interface SplitRow extends ConfiguredSplit {
  /** subset/version -> observed share (0..1) of the service's inbound requests over the window. */
  observed: Record<string, number>;
  samples: number;
  /** Largest |observed share - configured share| over subsets. */
  deviation: number | null;
}

/**
 * Observed split: the target service's inbound requests by version (the resource's service.version), or by the
 * subset the caller's sidecar recorded when spans carry it. Compared with the configured weights' shares.
 */
export function splits(store: Store, w: Window, configured: ConfiguredSplit[]): SplitRow[] {
  return configured.map((c) => {
    const byVersion = group(store, w, (s) => (s.kind === "server" && s.service === c.service && s.version ? s.version : undefined));
    const total = [...byVersion.values()].reduce((n, a) => n + a.requests, 0);
    const observed: Record<string, number> = {};
    for (const [v, a] of byVersion) observed[v] = total ? round(a.requests / total, 4)! : 0;
    const wsum = Object.values(c.weights).reduce((a, b) => a + b, 0) || 1;
    let deviation: number | null = null;
    if (total) {
      deviation = 0;
      for (const k of new Set([...Object.keys(c.weights), ...Object.keys(observed)])) deviation = Math.max(deviation, Math.abs((observed[k] ?? 0) - (c.weights[k] ?? 0) / wsum));
      deviation = round(deviation, 4);
    }
    return { ...c, observed, samples: total, deviation };
  });
}
