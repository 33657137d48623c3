// Concurrency limits and adaptive load shedding (ConcurrencyPolicy), in the admit slot: a fixed cap on
// in-flight requests per policy target, and an adaptive limit that follows either the latency gradient
// (Netflix concurrency-limits' Gradient: limit × minRTT / RTT) or the sidecar's event-loop lag (AIMD).
// Over the limit: 503 OVERLOADED with Retry-After. Health-check paths are never shed.
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Readable } from "node:stream";
import type { ConcurrencyPlan } from "../../config/compile/traffic.js";
import { MeshError } from "../../errors.js";
import type { Policy, Reply } from "../chain.js";
import { selects } from "./fault.js";

/** Event-loop lag, sampled by node's histogram and read twice a second; started only when a policy needs it. */
export class LoopLag {
  private h: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(lagMs: number) => void>();
  lastMs = 0;

  subscribe(fn: (lagMs: number) => void): () => void {
    this.listeners.add(fn);
    if (!this.h) {
      this.h = monitorEventLoopDelay({ resolution: 10 });
      this.h.enable();
      this.timer = setInterval(() => {
        // p99 of the delay beyond the sampling resolution is the lag requests actually felt.
        this.lastMs = Math.max(0, this.h!.percentile(99) / 1e6 - 10);
        this.h!.reset();
        for (const l of this.listeners) l(this.lastMs);
      }, 500);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.h?.disable();
    this.h = undefined;
    this.timer = undefined;
  }
}

/** Runtime state of one ConcurrencyPolicy; survives reloads while the policy is unchanged. */
export class ConcurrencyState {
  inflight = 0;
  limit: number;
  private minRttMs = Infinity;
  private rttMs = 0;
  private samples = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(readonly plan: ConcurrencyPlan, lag?: LoopLag) {
    const a = plan.adaptive;
    this.limit = a ? Math.min(a.maxLimit, plan.maxConcurrent ?? a.maxLimit) : (plan.maxConcurrent ?? Infinity);
    if (a?.type === "EventLoopLag" && lag) this.unsubscribe = lag.subscribe((ms) => this.onLag(ms));
  }

  /** The limit in force: the fixed cap, lowered by the adaptive limit when there is one. */
  get effectiveLimit(): number {
    const cap = this.plan.maxConcurrent ?? Infinity;
    return this.plan.adaptive ? Math.min(cap, Math.floor(this.limit)) : cap;
  }

  onLag(lagMs: number): void {
    const a = this.plan.adaptive!;
    // AIMD: halve when the loop lags past the threshold, creep back up by one per tick otherwise.
    this.limit = lagMs > a.maxLagMs ? Math.max(a.minLimit, Math.floor(Math.max(this.inflight, 1) / 2)) : Math.min(a.maxLimit, this.limit + 1);
  }

  /** Gradient: a long-run minimum RTT against a short EWMA; the limit shrinks as RTT inflates. */
  onRtt(ms: number): void {
    const a = this.plan.adaptive;
    if (a?.type !== "LatencyGradient") return;
    this.samples++;
    this.rttMs = this.rttMs === 0 ? ms : this.rttMs * 0.9 + ms * 0.1;
    // The no-load RTT drifts up slowly so a permanently slower app is not punished forever.
    this.minRttMs = Math.min(ms, this.minRttMs === Infinity ? ms : this.minRttMs * 1.0005);
    if (this.samples < 10) return;
    const gradient = Math.max(0.5, Math.min(1, (this.minRttMs * 2) / this.rttMs));
    const next = this.limit * gradient + Math.sqrt(this.limit);
    this.limit = Math.max(a.minLimit, Math.min(a.maxLimit, this.limit * 0.8 + next * 0.2));
  }

  close(): void {
    this.unsubscribe?.();
  }
}

export const concurrency = (policies: readonly ConcurrencyPlan[], stateOf: (p: ConcurrencyPlan) => ConcurrencyState): Policy => async (ex, next) => {
  const q = ex.path.indexOf("?");
  const path = q < 0 ? ex.path : ex.path.slice(0, q);
  const held: ConcurrencyState[] = [];
  for (const p of policies) {
    if (p.healthPaths.has(path) || !selects(p, ex)) continue;
    const s = stateOf(p);
    if (s.inflight >= s.effectiveLimit) {
      for (const h of held) h.inflight--;
      ex.notes.shed = p.name;
      throw new MeshError("OVERLOADED", `ConcurrencyPolicy "${p.name}" allows ${s.effectiveLimit} in flight.`, { headers: { "retry-after": String(p.retryAfterSeconds) } });
    }
    s.inflight++;
    held.push(s);
  }
  if (held.length === 0) return next(ex);
  const t0 = performance.now();
  const release = () => {
    const ms = performance.now() - t0;
    for (const h of held) {
      h.inflight--;
      h.onRtt(ms);
    }
  };
  let reply: Reply;
  try {
    reply = await next(ex);
  } catch (err) {
    release();
    throw err;
  }
  if (reply.body instanceof Readable) {
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        release();
      }
    };
    reply.body.once("close", once);
    reply.body.once("end", once);
  } else release();
  return reply;
};
