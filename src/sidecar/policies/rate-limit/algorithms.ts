// The three rate-limit algorithms as pure functions over a small state record, shared by the local store and
// mirrored line for line by the Redis Lua scripts (redis.ts): token bucket, leaky bucket (GCRA virtual
// scheduling, where a request may wait for its slot up to `burst` slots) and sliding-window counter.

export interface Limit {
  requests: number;
  perMs: number;
  burst: number;
}

export interface Decision {
  allowed: boolean;
  /** Requests left in the current window/bucket (after this one). */
  remaining: number;
  /** ms until the limit fully resets. */
  resetMs: number;
  /** ms to wait before retrying (when refused). */
  retryAfterMs: number;
  /** LeakyBucket: ms this request must wait for its slot (when allowed). */
  delayMs: number;
}

export type Algorithm = "TokenBucket" | "LeakyBucket" | "SlidingWindow";

/** Token bucket: `burst` tokens, refilled at requests/perMs. */
export interface TokenState {
  tokens: number;
  t: number;
}
export function tokenBucket(s: TokenState | undefined, l: Limit, now: number): { state: TokenState; d: Decision } {
  const rate = l.requests / l.perMs;
  let tokens = s ? Math.min(l.burst, s.tokens + Math.max(0, now - s.t) * rate) : l.burst;
  const allowed = tokens >= 1;
  if (allowed) tokens -= 1;
  return {
    state: { tokens, t: now },
    d: { allowed, remaining: Math.floor(tokens), resetMs: rate > 0 ? (l.burst - tokens) / rate : l.perMs, retryAfterMs: allowed ? 0 : rate > 0 ? (1 - tokens) / rate : l.perMs, delayMs: 0 },
  };
}

/** Leaky bucket as a queue: requests leave at a steady interval; up to `burst` may wait for their slot. */
export interface LeakyState {
  tat: number;
}
export function leakyBucket(s: LeakyState | undefined, l: Limit, now: number): { state: LeakyState | undefined; d: Decision } {
  const interval = l.perMs / Math.max(l.requests, 1e-9);
  const tat = Math.max(s?.tat ?? now, now);
  const delay = tat - now;
  const maxDelay = l.burst * interval;
  if (l.requests === 0 || delay > maxDelay) {
    return { state: s, d: { allowed: false, remaining: 0, resetMs: delay, retryAfterMs: l.requests === 0 ? l.perMs : delay - maxDelay + interval, delayMs: 0 } };
  }
  return { state: { tat: tat + interval }, d: { allowed: true, remaining: Math.max(0, Math.floor((maxDelay - delay) / interval)), resetMs: delay + interval, retryAfterMs: 0, delayMs: delay } };
}

/** Sliding-window counter (Cloudflare's approximation): previous window weighted by its remaining overlap. */
export interface WindowState {
  start: number;
  prev: number;
  curr: number;
}
export function slidingWindow(s: WindowState | undefined, l: Limit, now: number): { state: WindowState; d: Decision } {
  const w = l.perMs;
  const start = Math.floor(now / w) * w;
  let prev = 0;
  let curr = 0;
  if (s && s.start === start) {
    prev = s.prev;
    curr = s.curr;
  } else if (s && s.start === start - w) prev = s.curr;
  const elapsed = now - start;
  const est = prev * (1 - elapsed / w) + curr;
  if (est + 1 > l.requests) {
    // When the weighted previous window falls enough for one more request (or the next window starts).
    const need = est + 1 - l.requests;
    const retry = prev > 0 && need <= prev * (1 - elapsed / w) ? (need / prev) * w : w - elapsed;
    return { state: { start, prev, curr }, d: { allowed: false, remaining: 0, resetMs: w - elapsed, retryAfterMs: Math.max(1, retry), delayMs: 0 } };
  }
  return { state: { start, prev, curr: curr + 1 }, d: { allowed: true, remaining: Math.max(0, Math.floor(l.requests - est - 1)), resetMs: w - elapsed, retryAfterMs: 0, delayMs: 0 } };
}

export function decide(alg: Algorithm, s: unknown, l: Limit, now: number): { state: unknown; d: Decision } {
  if (alg === "TokenBucket") return tokenBucket(s as TokenState | undefined, l, now);
  if (alg === "LeakyBucket") return leakyBucket(s as LeakyState | undefined, l, now);
  return slidingWindow(s as WindowState | undefined, l, now);
}
