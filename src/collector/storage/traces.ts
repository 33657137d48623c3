// Recent traces in memory: spans grouped by trace id, oldest traces evicted first. Caps on traces, spans and
// spans per trace; everything turned away or evicted is counted.
import type { SpanRecord } from "../otlp/normalize.js";
import { isError } from "./rollup.js";

export interface TraceStoreOptions {
  maxTraces: number;
  maxSpans: number;
  maxSpansPerTrace: number;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  route: string;
  startMs: number;
  durationMs: number;
  spans: number;
  services: string[];
  error: boolean;
  httpStatus: number;
}

export interface TraceQuery {
  service?: string;
  route?: string;
  /** "error", "ok", or an HTTP status code / class ("503", "5xx"). */
  status?: string;
  minDurationMs?: number;
  traceId?: string;
  limit?: number;
  sinceMs?: number;
}

export class TraceStore {
  private readonly traces = new Map<string, SpanRecord[]>();
  spanCount = 0;
  evictedTraces = 0;
  droppedSpans = 0;
  constructor(readonly opts: TraceStoreOptions) {}

  get traceCount(): number {
    return this.traces.size;
  }

  add(span: SpanRecord): boolean {
    let list = this.traces.get(span.traceId);
    if (!list) {
      list = [];
      this.traces.set(span.traceId, list);
    } else if (list.length >= this.opts.maxSpansPerTrace) {
      this.droppedSpans++;
      return false;
    }
    list.push(span);
    this.spanCount++;
    while (this.traces.size > this.opts.maxTraces || this.spanCount > this.opts.maxSpans) this.evictOldest();
    return true;
  }

  private evictOldest(): void {
    const first = this.traces.keys().next();
    if (first.done) return;
    this.spanCount -= this.traces.get(first.value)!.length;
    this.traces.delete(first.value);
    this.evictedTraces++;
  }

  get(traceId: string): SpanRecord[] | undefined {
    return this.traces.get(traceId.toLowerCase());
  }

  summarize(traceId: string, spans: SpanRecord[]): TraceSummary {
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    const root = roots.reduce<SpanRecord | undefined>((a, s) => (!a || s.startMs < a.startMs ? s : a), undefined) ?? spans[0]!;
    let start = Infinity;
    let end = 0;
    // Services in the order the trace reached them.
    const services = new Set<string>([...spans].sort((a, b) => a.startMs - b.startMs).map((s) => s.service));
    let error = false;
    for (const s of spans) {
      start = Math.min(start, s.startMs);
      end = Math.max(end, s.startMs + s.durationMs);
      if (isError(s)) error = true;
    }
    return { traceId, rootService: root.service, rootName: root.name, route: root.route, startMs: start, durationMs: end - start, spans: spans.length, services: [...services], error, httpStatus: root.httpStatus };
  }

  /** Newest first. */
  search(q: TraceQuery): TraceSummary[] {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    if (q.traceId) {
      const spans = this.get(q.traceId);
      return spans ? [this.summarize(q.traceId.toLowerCase(), spans)] : [];
    }
    const out: TraceSummary[] = [];
    const ids = [...this.traces.keys()];
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const spans = this.traces.get(ids[i]!)!;
      if (q.service && !spans.some((s) => s.service === q.service)) continue;
      if (q.route && !spans.some((s) => s.route === q.route && (!q.service || s.service === q.service))) continue;
      const sum = this.summarize(ids[i]!, spans);
      if (q.sinceMs && sum.startMs < q.sinceMs) continue;
      if (q.minDurationMs !== undefined && sum.durationMs < q.minDurationMs) continue;
      if (q.status && !matchesStatus(q.status, sum, spans)) continue;
      out.push(sum);
    }
    return out;
  }
}

function matchesStatus(status: string, sum: TraceSummary, spans: SpanRecord[]): boolean {
  if (status === "error") return sum.error;
  if (status === "ok") return !sum.error;
  const cls = /^([1-5])xx$/i.exec(status);
  if (cls) return spans.some((s) => Math.floor(s.httpStatus / 100) === Number(cls[1]));
  const code = Number(status);
  return spans.some((s) => s.httpStatus === code);
}
