// Retries: on connect failure, reset, or listed statuses; only when safe to replay (no body, a body buffered
// under the cap, or a body not yet read) and, for non-idempotent methods, only when the upstream never got the
// request (connect failure). Full-jitter exponential back-off; Retry-After honoured up to a cap; a per-rule
// budget caps the retry ratio. Attempts land in ex.notes.retries.
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { CompiledRule } from "../../config/compile/routes.js";
import type { RetryPlan } from "../../config/compile/retry.js";
import { MeshError } from "../../errors.js";
import type { Policy, Reply } from "../chain.js";
import type { RetryBudget } from "./retry-budget.js";

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

export interface RetryHooks {
  budget(rule: CompiledRule): RetryBudget;
  onRetry?(rule: CompiledRule, reason: string): void;
  onBudgetExhausted?(rule: CompiledRule): void;
}

/** Why an outcome may be retried, or undefined when it may not. */
export function retryReason(plan: RetryPlan, reply: Reply | undefined, err: unknown): string | undefined {
  if (reply) return plan.statuses.has(reply.status) ? String(reply.status) : undefined;
  if (!(err instanceof MeshError)) return undefined;
  if (err.code === "UPSTREAM_CONNECT_FAILED") return plan.onConnectFailure ? "connect-failure" : undefined;
  if (err.code === "UPSTREAM_RESET") return plan.onReset ? "reset" : undefined;
  if (err.code === "UPSTREAM_TIMEOUT") return plan.statuses.has(504) ? "504" : undefined;
  return undefined;
}

/** Retry-After (seconds or HTTP date) in ms, or undefined. */
export function retryAfterMs(reply: Reply | undefined, now = Date.now()): number | undefined {
  const h = reply?.headers["retry-after"];
  if (h === undefined) return undefined;
  const v = Array.isArray(h) ? h[0]! : String(h);
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base × 2^(n-1))]. */
export const backoffMs = (plan: RetryPlan, retryNumber: number, random = Math.random) => random() * Math.min(plan.maxMs, plan.baseMs * 2 ** (retryNumber - 1));

function discard(reply: Reply): void {
  const b = reply.body;
  if (b instanceof Readable) {
    const dump = (b as Readable & { dump?: (o?: { limit: number }) => Promise<void> }).dump;
    if (dump) void dump.call(b, { limit: 64 * 1024 }).catch(() => {});
    else b.destroy();
  }
}

async function bufferBody(body: Readable, cap: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    n += b.length;
    if (n > cap) return undefined;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export const retry = (hooks: RetryHooks): Policy => async (ex, next) => {
  const rule = ex.notes.ruleRef as CompiledRule | undefined;
  const plan = rule?.retry;
  if (!rule || !plan) return next(ex);
  const budget = hooks.budget(rule);
  budget.deposit();
  let buffered: Buffer | undefined;
  if (ex.body) {
    const cl = Number(ex.headers["content-length"]);
    // A framed body under the cap is read into memory so each try can resend it; larger or chunked bodies
    // stream once, and only a failure before any byte was read can be retried.
    if (Number.isFinite(cl) && cl <= plan.maxBufferedBodyBytes) {
      buffered = await bufferBody(ex.body, plan.maxBufferedBodyBytes);
      if (buffered) ex.body = Readable.from([buffered], { objectMode: false });
    }
  }
  const idempotent = IDEMPOTENT.has(ex.method);
  for (let attempt = 0; ; attempt++) {
    let reply: Reply | undefined;
    let err: unknown;
    try {
      reply = await next(ex);
    } catch (e) {
      err = e;
    }
    const reason = retryReason(plan, reply, err);
    const replayable = ex.body === null || buffered !== undefined || ex.body.readableDidRead === false;
    const safe = replayable && (idempotent || reason === "connect-failure");
    const after = retryAfterMs(reply);
    const giveUp = () => {
      ex.notes.retries = attempt;
      if (reply) return reply;
      throw err;
    };
    if (!reason || !safe || attempt >= plan.attempts || ex.signal.aborted) return giveUp();
    if (after !== undefined && after > plan.maxRetryAfterMs) return giveUp();
    if (!budget.withdraw()) {
      hooks.onBudgetExhausted?.(rule);
      ex.notes.retryBudgetExhausted = true;
      return giveUp();
    }
    if (reply) discard(reply);
    hooks.onRetry?.(rule, reason);
    const wait = after ?? backoffMs(plan, attempt + 1);
    try {
      if (wait > 0) await sleep(wait, undefined, { signal: ex.signal });
    } catch {
      ex.notes.retries = attempt;
      throw ex.signal.reason instanceof MeshError ? ex.signal.reason : new MeshError("REQUEST_TIMEOUT", "aborted during retry back-off");
    }
    if (buffered) ex.body = Readable.from([buffered], { objectMode: false });
    ex.notes.retries = attempt + 1;
  }
};
