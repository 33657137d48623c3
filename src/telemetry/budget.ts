// The telemetry budget: one token bucket per signal (spans/s, log lines/s, export bytes/s). Over a cap the
// caller sheds (samples down) and counts what it shed; the collector is never flooded by one sidecar.
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  /** `rate` per second, with a burst of one second's worth (at least `minBurst`). Infinity = unlimited. */
  constructor(private rate: number, private minBurst = 1) {
    this.tokens = this.burst;
  }

  private get burst(): number {
    return Math.max(this.rate, this.minBurst);
  }

  setRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    // A new rate starts with a full burst: a reload should not leave a bucket sized for the old rate.
    this.tokens = this.burst;
    this.last = performance.now();
  }

  take(n = 1): boolean {
    if (this.rate === Infinity) return true;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

export interface BudgetCaps {
  spansPerSecond: number;
  logLinesPerSecond: number;
  exportBytesPerSecond: number;
}

export class TelemetryBudget {
  readonly spans: TokenBucket;
  readonly logLines: TokenBucket;
  readonly exportBytes: TokenBucket;

  constructor(caps: BudgetCaps) {
    this.spans = new TokenBucket(caps.spansPerSecond);
    this.logLines = new TokenBucket(caps.logLinesPerSecond);
    // A batch is sent whole: let one full-size gzip batch (~256 KiB) through even at a low byte rate.
    this.exportBytes = new TokenBucket(caps.exportBytesPerSecond, 0);
  }

  configure(caps: BudgetCaps): void {
    this.spans.setRate(caps.spansPerSecond);
    this.logLines.setRate(caps.logLinesPerSecond);
    this.exportBytes.setRate(caps.exportBytesPerSecond);
  }
}
