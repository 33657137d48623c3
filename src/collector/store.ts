// Everything the collector keeps: traces, RED rollups, logs, metric points and per-sender volume, each bounded.
// Ingest goes through here so counts of what was kept, evicted and dropped live in one place.
import type { LogRecordOut, MetricPoint, SpanRecord } from "./otlp/normalize.js";
import { Rollups } from "./storage/rollup.js";
import { Ring } from "./storage/signals.js";
import { TraceStore } from "./storage/traces.js";

export interface StoreOptions {
  maxTraces: number;
  maxSpans: number;
  maxSpansPerTrace: number;
  maxLogs: number;
  maxMetricPoints: number;
  bucketMs: number;
  retentionMs: number;
  maxSeries: number;
  maxSenders: number;
}

export const DEFAULT_STORE: StoreOptions = {
  maxTraces: 20_000,
  maxSpans: 200_000,
  maxSpansPerTrace: 2_000,
  maxLogs: 50_000,
  maxMetricPoints: 100_000,
  bucketMs: 5_000,
  retentionMs: 30 * 60_000,
  maxSeries: 2_000,
  maxSenders: 1_000,
};

/** Telemetry items per sender per bucket, for the volume anomaly (each sender against its own baseline). */
export class SenderVolume {
  readonly senders = new Map<string, Map<number, number>>();
  droppedSenders = 0;
  constructor(readonly bucketMs: number, readonly retentionMs: number, readonly maxSenders: number) {}

  add(sender: string, items: number, now = Date.now()): void {
    let s = this.senders.get(sender);
    if (!s) {
      if (this.senders.size >= this.maxSenders) {
        this.droppedSenders++;
        return;
      }
      s = new Map();
      this.senders.set(sender, s);
    }
    const t = Math.floor(now / this.bucketMs) * this.bucketMs;
    s.set(t, (s.get(t) ?? 0) + items);
  }

  prune(now = Date.now()): void {
    for (const [name, s] of this.senders) {
      for (const t of s.keys()) if (t < now - this.retentionMs) s.delete(t);
      if (!s.size) this.senders.delete(name);
    }
  }
}

export class Store {
  readonly traces: TraceStore;
  readonly rollups: Rollups;
  readonly logs: Ring<LogRecordOut>;
  readonly metrics: Ring<MetricPoint>;
  readonly volume: SenderVolume;
  readonly received = { spans: 0, logs: 0, metrics: 0 };
  constructor(readonly opts: StoreOptions = DEFAULT_STORE) {
    this.traces = new TraceStore(opts);
    this.rollups = new Rollups({ bucketMs: opts.bucketMs, retentionMs: opts.retentionMs, maxSeries: opts.maxSeries });
    this.logs = new Ring(opts.maxLogs);
    this.metrics = new Ring(opts.maxMetricPoints);
    this.volume = new SenderVolume(opts.bucketMs, 10 * 60_000, opts.maxSenders);
  }

  addSpan(s: SpanRecord): void {
    this.received.spans++;
    this.rollups.add(s);
    this.traces.add(s);
  }

  addLog(l: LogRecordOut): void {
    this.received.logs++;
    this.logs.push(l);
  }

  addMetric(m: MetricPoint): void {
    this.received.metrics++;
    this.metrics.push(m);
  }

  prune(now = Date.now()): void {
    this.rollups.prune(now);
    this.volume.prune(now);
  }
}
