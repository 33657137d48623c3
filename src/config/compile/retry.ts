// A route rule's retry settings compiled once: which failures retry, back-off bounds, the budget and body cap.
import type { RouteRule } from "../kinds/route.js";
import { durationOr } from "../units.js";

export interface RetryPlan {
  /** Retries after the first try (0 = none). */
  attempts: number;
  onConnectFailure: boolean;
  onReset: boolean;
  /** HTTP statuses that retry. */
  statuses: ReadonlySet<number>;
  baseMs: number;
  maxMs: number;
  /** Budget: retries allowed = ratio × requests + minPerSecond × window, over a 10 s window. */
  budgetRatio: number;
  budgetMinPerSecond: number;
  maxBufferedBodyBytes: number;
  /** A Retry-After longer than this is not waited for: the response is returned instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_ON = ["connect-failure", "reset", "502", "503", "504"];

export function compileRetry(rule: RouteRule): RetryPlan | undefined {
  const r = rule.retry;
  if (!r || r.attempts === 0) return undefined;
  const on = r.on?.length ? r.on : DEFAULT_RETRY_ON;
  const statuses = new Set<number>();
  for (const o of on) {
    if (/^[1-5][0-9][0-9]$/.test(o)) statuses.add(Number(o));
    else if (o === "5xx") for (let s = 500; s < 600; s++) statuses.add(s);
    else if (o === "gateway-error") [502, 503, 504].forEach((s) => statuses.add(s));
  }
  return {
    attempts: r.attempts,
    onConnectFailure: on.includes("connect-failure") || on.includes("5xx") || on.includes("gateway-error"),
    onReset: on.includes("reset") || on.includes("5xx") || on.includes("gateway-error"),
    statuses,
    baseMs: durationOr(r.backoff?.base, 25),
    maxMs: durationOr(r.backoff?.max, 250),
    budgetRatio: r.budget?.ratio ?? 0.2,
    budgetMinPerSecond: r.budget?.minPerSecond ?? 10,
    maxBufferedBodyBytes: r.maxBufferedBodyBytes ?? 64 * 1024,
    maxRetryAfterMs: durationOr(r.maxRetryAfter, 5_000),
  };
}
