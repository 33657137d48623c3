// Circuit breaking and outlier detection for a backend (its BackendPolicy), innermost before forward:
// - connection pool limits: at most maxConnections requests at once, maxPendingRequests waiting (FIFO), at most
//   maxRequests in total; beyond that 503 BACKEND_OVERFLOW;
// - outlier detection: consecutive 5xx / gateway errors eject an endpoint for a time that doubles with each
//   ejection, never more than maxEjectionPercent of the backend's endpoints at once;
// - circuit breaker: consecutive failures open the circuit (503 CIRCUIT_OPEN with Retry-After) for a time that
//   grows with each opening; then half-open lets a few probes through: success closes it, failure reopens it.
import { Readable } from "node:stream";
import type { BackendPolicyPlan } from "../../config/compile/traffic.js";
import { MeshError } from "../../errors.js";
import type { Exchange, Policy, Reply } from "../chain.js";
import type { Upstreams } from "../upstream/pools.js";

export type BreakerState = "closed" | "open" | "half-open";

const GATEWAY = new Set([502, 503, 504]);

/** Per-backend runtime state; kept across reloads while the backend's policy is unchanged. */
export class BackendGuard {
  active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  state: BreakerState = "closed";
  private failures = 0;
  private opens = 0;
  private openUntil = 0;
  private probes = 0;
  private readonly endpointErrors = new Map<string, { c5xx: number; gateway: number }>();
  /** For tests and explain: observable transitions. */
  readonly transitions: BreakerState[] = [];

  constructor(readonly plan: BackendPolicyPlan, private readonly now: () => number = Date.now) {}

  get pending(): number {
    return this.waiting.length;
  }

  /** Breaker admission: throws CIRCUIT_OPEN, or returns whether this request is a half-open probe. */
  admitBreaker(): boolean {
    const b = this.plan.breaker;
    if (!b || this.state === "closed") return false;
    const now = this.now();
    if (this.state === "open") {
      if (now < this.openUntil) throw this.openError(this.openUntil - now);
      this.set("half-open");
      this.probes = 0;
    }
    if (this.probes >= b.halfOpenRequests) throw this.openError(1000);
    this.probes++;
    return true;
  }

  private openError(ms: number): MeshError {
    return new MeshError("CIRCUIT_OPEN", `Backend policy "${this.plan.name}" (${this.state}).`, { headers: { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) } });
  }

  private set(s: BreakerState): void {
    this.state = s;
    if (this.transitions.length < 64) this.transitions.push(s);
  }

  /** Records a try's outcome on the breaker. */
  record(failed: boolean, probe: boolean): void {
    const b = this.plan.breaker;
    if (!b) return;
    if (probe) this.probes = Math.max(0, this.probes - 1);
    if (!failed) {
      this.failures = 0;
      if (this.state === "half-open") {
        this.opens = 0;
        this.set("closed");
      }
      return;
    }
    this.failures++;
    if (this.state === "half-open" || (this.state === "closed" && this.failures >= b.consecutiveFailures)) {
      const ms = Math.min(b.maxOpenMs, b.openMs * 2 ** Math.min(this.opens, 16));
      this.opens++;
      this.openUntil = this.now() + ms;
      this.set("open");
    }
  }

  /** Pool admission: a slot now, a bounded wait, or BACKEND_OVERFLOW. */
  async acquire(signal: AbortSignal): Promise<void> {
    const p = this.plan.pool;
    if (!p) return;
    if (this.active + this.waiting.length >= p.maxRequests) throw new MeshError("BACKEND_OVERFLOW", `maxRequests ${p.maxRequests} reached.`);
    if (this.active < p.maxConnections) {
      this.active++;
      return;
    }
    if (this.waiting.length >= p.maxPendingRequests) throw new MeshError("BACKEND_OVERFLOW", `maxConnections ${p.maxConnections} busy and maxPendingRequests ${p.maxPendingRequests} waiting.`);
    await new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal.addEventListener(
        "abort",
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
    });
  }

  release(): void {
    if (!this.plan.pool) return;
    const next = this.waiting.shift();
    if (next) next.resolve(); // the slot passes straight to the next waiter
    else this.active = Math.max(0, this.active - 1);
  }

  /** Outlier detection: returns true when the endpoint should be ejected now. */
  endpointOutcome(key: string, status: number | undefined, gatewayError: boolean): boolean {
    const o = this.plan.outlier;
    if (!o) return false;
    let c = this.endpointErrors.get(key);
    if (!c) {
      if (this.endpointErrors.size >= 100_000) this.endpointErrors.clear();
      this.endpointErrors.set(key, (c = { c5xx: 0, gateway: 0 }));
    }
    const is5xx = gatewayError || (status !== undefined && status >= 500);
    const isGateway = gatewayError || (status !== undefined && GATEWAY.has(status));
    c.c5xx = is5xx ? c.c5xx + 1 : 0;
    c.gateway = isGateway ? c.gateway + 1 : 0;
    if (c.c5xx >= o.consecutive5xx || c.gateway >= o.consecutiveGatewayErrors) {
      c.c5xx = 0;
      c.gateway = 0;
      return true;
    }
    return false;
  }
}

export const circuit = (guardFor: (backend: string) => BackendGuard | undefined, upstreams: Upstreams): Policy => async (ex, next) => {
  const target = ex.target;
  if (!target || target.app) return next(ex);
  const guard = guardFor(target.backend);
  if (!guard) return next(ex);
  let probe: boolean;
  try {
    probe = guard.admitBreaker();
  } catch (err) {
    ex.notes.circuit = guard.state;
    throw err;
  }
  try {
    await guard.acquire(ex.signal);
  } catch (err) {
    if (probe) guard.record(false, true); // not a verdict on the backend: give the probe slot back
    throw err;
  }
  let reply: Reply;
  try {
    reply = await next(ex);
  } catch (err) {
    guard.release();
    const upstreamFault = err instanceof MeshError && (err.code.startsWith("UPSTREAM_") || err.code === "NO_HEALTHY_ENDPOINT");
    if (upstreamFault) outcome(guard, ex, upstreams, undefined, true, probe);
    else if (probe) guard.record(false, true);
    throw err;
  }
  outcome(guard, ex, upstreams, reply.status, reply.status >= 500, probe);
  if (reply.body instanceof Readable) {
    const body = reply.body;
    let released = false;
    const done = () => {
      if (!released) {
        released = true;
        guard.release();
      }
    };
    body.once("close", done);
    body.once("end", done);
    body.once("error", done);
  } else guard.release();
  if (guard.state !== "closed") ex.notes.circuit = guard.state;
  return reply;
};

function outcome(guard: BackendGuard, ex: Exchange, upstreams: Upstreams, status: number | undefined, failed: boolean, probe: boolean): void {
  guard.record(failed, probe);
  const key = ex.notes.endpoint;
  const o = guard.plan.outlier;
  if (!key || !o || !ex.target) return;
  if (!guard.endpointOutcome(key, status, status === undefined)) return;
  const set = upstreams.endpointSet(ex.target.backend);
  const state = upstreams.get(key)?.state;
  if (!set || !state) return;
  const now = Date.now();
  const ejected = set.states.filter((s) => !s.isAvailable(now)).length;
  // Never eject past the cap: with few endpoints, keep serving from a bad one rather than from none.
  if (((ejected + 1) / set.states.length) * 100 > o.maxEjectionPercent) return;
  state.eject(now, o.baseEjectionMs, o.maxEjectionMs);
  ex.notes.ejected = key;
}
