// Per-sender ingest limits: a token bucket of items (spans, points, log records) per second for each sender.
// A batch is admitted while the bucket is positive and may take it into debt, so big batches pass at the
// average rate; an empty bucket answers 429 with the seconds until it refills (Retry-After).
export interface IngestLimitOptions {
  itemsPerSecond: number;
  burst: number;
  maxSenders: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SenderLimits {
  private readonly buckets = new Map<string, Bucket>();
  constructor(readonly opts: IngestLimitOptions) {}

  /** 0 when admitted, else the seconds to wait. */
  take(sender: string, items: number, now = Date.now()): number {
    if (this.opts.itemsPerSecond <= 0) return 0;
    let b = this.buckets.get(sender);
    if (!b) {
      // Bounded: forget the least recently seen sender (insertion order is refreshed below).
      if (this.buckets.size >= this.opts.maxSenders) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.opts.burst, at: now };
    }
    this.buckets.delete(sender);
    this.buckets.set(sender, b);
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.itemsPerSecond);
    b.at = now;
    if (b.tokens <= 0) return Math.max(1, Math.ceil((1 - b.tokens) / this.opts.itemsPerSecond));
    b.tokens -= items;
    return 0;
  }
}
