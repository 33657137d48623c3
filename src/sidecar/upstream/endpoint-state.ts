// Per-endpoint runtime state that outlives config swaps: in-flight count, EWMA latency, passive-health ejection.
import type { EndpointPlan } from "../../config/compile/backends.js";

const EWMA_DECAY_MS = 10_000; // latency samples lose half their weight over ~7 s

export class EndpointState {
  inflight = 0;
  ewmaMs = 0;
  private lastSample = 0;
  ejectedUntil = 0;
  ejections = 0;
  consecutiveFailures = 0;

  constructor(readonly endpoint: EndpointPlan) {}

  get key(): string {
    return this.endpoint.key;
  }

  isAvailable(now: number): boolean {
    return this.ejectedUntil <= now;
  }

  /** Peak-EWMA style score: latency weighted by outstanding work (lower is better). */
  score(): number {
    return (this.ewmaMs || 1) * (this.inflight + 1);
  }

  observeLatency(ms: number, now: number): void {
    if (this.lastSample === 0) this.ewmaMs = ms;
    else {
      const w = Math.exp(-(now - this.lastSample) / EWMA_DECAY_MS);
      this.ewmaMs = this.ewmaMs * w + ms * (1 - w);
    }
    this.lastSample = now;
  }

  /** Connection refused or reset: eject for a back-off that doubles with each ejection, capped. */
  eject(now: number, baseMs: number, maxMs: number): void {
    const ms = Math.min(maxMs, baseMs * 2 ** Math.min(this.ejections, 16));
    this.ejections++;
    this.ejectedUntil = now + ms;
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    // Each clean response after an ejection earns back trust gradually.
    if (this.ejections > 0 && this.ejectedUntil < Date.now()) this.ejections = Math.max(0, this.ejections - 1);
  }
}
