// Anomaly detection, run every few seconds off the ingest path: each subject against its own recent baseline.
// - telemetry volume per sender: spike (current ≥ factor × baseline) or drop (current ≤ baseline / factor);
// - per service: spikes in 429s, 5xx, injected faults, open circuits and authorization denials;
// - observed split vs configured weights beyond a tolerance.
// Raised and cleared anomalies are logged once each, kept (bounded) for the dashboard and exported as metrics.
import type { Logger } from "pino";
import type { ConfiguredSplit } from "./config-source.js";
import { splits, windowOf } from "./query.js";
import { emptyAggregate, type Counts } from "./storage/rollup.js";
import type { Store } from "./store.js";

export type AnomalyKind = "volume_spike" | "volume_drop" | "split_deviation" | "rate_limited_spike" | "error_5xx_spike" | "fault_spike" | "circuit_open_spike" | "authz_denied_spike";

export interface Anomaly {
  id: string;
  kind: AnomalyKind;
  subject: string;
  message: string;
  value: number;
  baseline: number;
  since: string;
  lastSeen: string;
  active: boolean;
  cleared?: string;
}

export interface AnomalyOptions {
  /** Recent window compared against the baseline. */
  currentMs: number;
  baselineMs: number;
  factor: number;
  /** A rate (per second) below which nothing is a spike: a handful of errors is not news. */
  minRate: number;
  splitTolerance: number;
  splitMinSamples: number;
  maxHistory: number;
}

export const DEFAULT_ANOMALY: AnomalyOptions = { currentMs: 30_000, baselineMs: 5 * 60_000, factor: 3, minRate: 0.5, splitTolerance: 0.1, splitMinSamples: 50, maxHistory: 200 };

const SIGNALS: [keyof Counts, AnomalyKind, string][] = [
  ["status429", "rate_limited_spike", "429 responses"],
  ["status5xx", "error_5xx_spike", "5xx responses"],
  ["faults", "fault_spike", "injected faults"],
  ["circuitOpen", "circuit_open_spike", "open-circuit rejections"],
  ["authzDenied", "authz_denied_spike", "authorization denials"],
];

export interface Finding {
  kind: AnomalyKind;
  subject: string;
  message: string;
  value: number;
  baseline: number;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export class AnomalyDetector {
  private readonly active = new Map<string, Anomaly>();
  private readonly history: Anomaly[] = [];
  readonly raisedTotal = new Map<AnomalyKind, number>();
  constructor(
    readonly store: Store,
    readonly opts: AnomalyOptions = DEFAULT_ANOMALY,
    readonly logger?: Logger,
  ) {}

  /** Rates per second in the current window and in the baseline window just before it. */
  private rates(points: Iterable<[number, number]>, now: number): { current: number; baseline: number; baselineBuckets: number } {
    const curFrom = now - this.opts.currentMs;
    const baseFrom = curFrom - this.opts.baselineMs;
    let cur = 0;
    let base = 0;
    let first = Infinity;
    for (const [t, n] of points) {
      if (t >= curFrom) cur += n;
      else if (t >= baseFrom) {
        base += n;
        first = Math.min(first, t);
      }
    }
    const baseSecs = first === Infinity ? 0 : (curFrom - first) / 1000;
    return { current: cur / (this.opts.currentMs / 1000), baseline: baseSecs > 0 ? base / baseSecs : 0, baselineBuckets: (baseSecs * 1000) / this.store.opts.bucketMs };
  }

  detect(configured: ConfiguredSplit[], now = Date.now()): Finding[] {
    const found: Finding[] = [];
    const minBaselineBuckets = Math.max(3, Math.floor(this.opts.currentMs / this.store.opts.bucketMs));
    // Volume per sender, against its own baseline (needs some history first).
    for (const [sender, buckets] of this.store.volume.senders) {
      const { current, baseline, baselineBuckets } = this.rates(buckets, now);
      if (baselineBuckets < minBaselineBuckets) continue;
      if (current >= this.opts.factor * baseline && current - baseline >= this.opts.minRate * 10)
        found.push({ kind: "volume_spike", subject: sender, message: `${sender} sends ${r2(current)} items/s, ${r2(current / Math.max(baseline, 0.001))}× its baseline of ${r2(baseline)}/s`, value: r2(current), baseline: r2(baseline) });
      else if (baseline >= this.opts.minRate && current <= baseline / this.opts.factor)
        found.push({ kind: "volume_drop", subject: sender, message: `${sender} sends ${r2(current)} items/s, down from a baseline of ${r2(baseline)}/s`, value: r2(current), baseline: r2(baseline) });
    }
    // Error-like signals per service (inbound and outbound spans of that service's sidecar).
    const perService = new Map<string, Map<number, Counts>>();
    for (const s of this.store.rollups.series.values()) {
      let m = perService.get(s.service);
      if (!m) perService.set(s.service, (m = new Map()));
      for (const [t, b] of s.buckets) {
        const a = m.get(t) ?? emptyAggregate();
        if (!m.has(t)) m.set(t, a);
        for (const [field] of SIGNALS) a[field] += b[field];
      }
    }
    for (const [service, m] of perService) {
      for (const [field, kind, label] of SIGNALS) {
        const { current, baseline } = this.rates([...m].map(([t, c]) => [t, c[field]] as [number, number]), now);
        if (current >= this.opts.minRate && current >= this.opts.factor * baseline)
          found.push({ kind, subject: service, message: `${service}: ${r2(current)} ${label}/s (baseline ${r2(baseline)}/s)`, value: r2(current), baseline: r2(baseline) });
      }
    }
    // Observed split vs configured weights.
    const w = windowOf(this.store, Math.min(this.opts.currentMs * 2, 60_000), now);
    for (const sp of splits(this.store, w, configured)) {
      if (sp.samples < this.opts.splitMinSamples || sp.deviation === null || sp.deviation <= this.opts.splitTolerance) continue;
      const conf = Object.entries(sp.weights).map(([k, v]) => `${k}=${v}`).join(" ");
      const obs = Object.entries(sp.observed).map(([k, v]) => `${k}=${Math.round(v * 100)}%`).join(" ");
      found.push({ kind: "split_deviation", subject: `${sp.route}#${sp.rule}`, message: `route ${sp.route}: observed ${obs} vs configured ${conf} (off by ${Math.round(sp.deviation * 100)} points over ${sp.samples} requests)`, value: sp.deviation, baseline: this.opts.splitTolerance });
    }
    return found;
  }

  /** Runs detection and updates the active set; returns the anomalies raised by this run. */
  evaluate(configured: ConfiguredSplit[], now = Date.now()): Anomaly[] {
    const found = this.detect(configured, now);
    const iso = new Date(now).toISOString();
    const seen = new Set<string>();
    const raised: Anomaly[] = [];
    for (const f of found) {
      const id = `${f.kind}:${f.subject}`;
      seen.add(id);
      const a = this.active.get(id);
      if (a) Object.assign(a, { message: f.message, value: f.value, baseline: f.baseline, lastSeen: iso });
      else {
        const n: Anomaly = { id, ...f, since: iso, lastSeen: iso, active: true };
        this.active.set(id, n);
        this.history.push(n);
        if (this.history.length > this.opts.maxHistory) this.history.shift();
        this.raisedTotal.set(f.kind, (this.raisedTotal.get(f.kind) ?? 0) + 1);
        raised.push(n);
        this.logger?.warn({ event: "anomaly.raised", kind: f.kind, subject: f.subject, value: f.value, baseline: f.baseline }, f.message);
      }
    }
    for (const [id, a] of this.active)
      if (!seen.has(id)) {
        a.active = false;
        a.cleared = iso;
        this.active.delete(id);
        this.logger?.info({ event: "anomaly.cleared", kind: a.kind, subject: a.subject }, `cleared: ${a.message}`);
      }
    return raised;
  }

  list(): { active: Anomaly[]; recent: Anomaly[] } {
    return { active: [...this.active.values()], recent: [...this.history].reverse() };
  }

  activeByKind(): Map<AnomalyKind, number> {
    const m = new Map<AnomalyKind, number>();
    for (const a of this.active.values()) m.set(a.kind, (m.get(a.kind) ?? 0) + 1);
    return m;
  }
}
