// Retry budget (as Linkerd's): over a sliding 10 s window, retries may not exceed ratio × requests plus
// minPerSecond × 10, so retries cannot multiply the load on a failing backend. Ten one-second buckets: O(1).
const WINDOW_BUCKETS = 10;
const BUCKET_MS = 1000;

export class RetryBudget {
  private readonly requests = new Float64Array(WINDOW_BUCKETS);
  private readonly retries = new Float64Array(WINDOW_BUCKETS);
  private epoch = 0;

  constructor(readonly ratio: number, readonly minPerSecond: number, private readonly now: () => number = Date.now) {}

  private roll(): number {
    const e = Math.floor(this.now() / BUCKET_MS);
    if (e !== this.epoch) {
      const gap = Math.min(WINDOW_BUCKETS, Math.max(0, e - this.epoch));
      for (let i = 1; i <= gap; i++) {
        const idx = (this.epoch + i) % WINDOW_BUCKETS;
        this.requests[idx] = 0;
        this.retries[idx] = 0;
      }
      this.epoch = e;
    }
    return e % WINDOW_BUCKETS;
  }

  /** Every original request deposits. */
  deposit(): void {
    this.requests[this.roll()]! += 1;
  }

  /** A retry withdraws; false when the budget is spent. */
  withdraw(): boolean {
    const i = this.roll();
    let reqs = 0;
    let rets = 0;
    for (let k = 0; k < WINDOW_BUCKETS; k++) {
      reqs += this.requests[k]!;
      rets += this.retries[k]!;
    }
    if (rets + 1 > this.ratio * reqs + this.minPerSecond * (WINDOW_BUCKETS * BUCKET_MS) / 1000) return false;
    this.retries[i]! += 1;
    return true;
  }
}
