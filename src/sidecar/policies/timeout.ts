// Timeouts (Gateway API `timeouts`): `request` bounds the whole exchange until the response starts, across
// retries and back-off; `backendRequest` is the per-try limit the forwarder applies (ex.tryTimeoutMs).
// Outermost in the resilience slot, so retries run inside the deadline.
import { Readable } from "node:stream";
import type { CompiledRule } from "../../config/compile/routes.js";
import { MeshError } from "../../errors.js";
import type { Exchange, Policy, Reply } from "../chain.js";

export const timeout = (): Policy => async (ex, next) => {
  const rule = ex.notes.ruleRef as CompiledRule | undefined;
  if (!rule) return next(ex);
  if (rule.backendRequestTimeoutMs) ex.tryTimeoutMs = rule.backendRequestTimeoutMs;
  const ms = rule.requestTimeoutMs;
  if (!ms) return next(ex);
  return withDeadline(ex, ms, next);
};

/** Runs next with the exchange's signal replaced by one that also aborts at the deadline. */
export async function withDeadline(ex: Exchange, ms: number, next: (ex: Exchange) => Promise<Reply>): Promise<Reply> {
  const ac = new AbortController();
  const outer = ex.signal;
  if (outer.aborted) ac.abort(outer.reason);
  else outer.addEventListener("abort", () => ac.abort(outer.reason), { once: true });
  (ex as { signal: AbortSignal }).signal = ac.signal;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      const err = new MeshError("REQUEST_TIMEOUT", `(${ms} ms)`);
      ex.notes.timeout = `request ${ms}ms`;
      ac.abort(err);
      reject(err);
    }, ms);
    timer.unref?.();
  });
  const attempt = next(ex);
  // The loser of the race must not leak: a late reply's body is released, a late error is swallowed.
  attempt.then(
    (r) => {
      if (expired && r.body instanceof Readable) r.body.destroy();
    },
    () => {},
  );
  try {
    return await Promise.race([attempt, deadline]);
  } catch (err) {
    if (expired) throw new MeshError("REQUEST_TIMEOUT", `The route allows ${ms} ms.`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
