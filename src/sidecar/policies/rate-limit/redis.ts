// Shared limiter store in Redis (ioredis): one atomic Lua script per algorithm, the same arithmetic as
// algorithms.ts, time from Redis (TIME) so sidecars agree, keys expiring with their window. Commands time out
// after a few ms and never queue while Redis is down (enableOfflineQueue: false): the caller falls back.
import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import type { Algorithm, Decision, Limit } from "./algorithms.js";

const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

const TOKEN_BUCKET = `${NOW}
local rate = tonumber(ARGV[1]) / tonumber(ARGV[2]); local burst = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 't')
local tokens = tonumber(v[1]); local last = tonumber(v[2])
if tokens == nil then tokens = burst else tokens = math.min(burst, tokens + math.max(0, now - last) * rate) end
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, tostring(tokens)}`;

const LEAKY_BUCKET = `${NOW}
local interval = tonumber(ARGV[2]) / tonumber(ARGV[1]); local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local delay = tat - now
if delay > burst * interval then return {0, tostring(delay)} end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(delay + interval) + 1000)
return {1, tostring(delay)}`;

const SLIDING_WINDOW = `${NOW}
local w = tonumber(ARGV[2]); local limit = tonumber(ARGV[1])
local start = math.floor(now / w) * w
local ck = KEYS[1] .. ':' .. start; local pk = KEYS[1] .. ':' .. (start - w)
local curr = tonumber(redis.call('GET', ck) or '0'); local prev = tonumber(redis.call('GET', pk) or '0')
local elapsed = now - start
local est = prev * (1 - elapsed / w) + curr
if est + 1 > limit then return {0, tostring(est), tostring(elapsed), tostring(prev)} end
redis.call('INCR', ck); redis.call('PEXPIRE', ck, math.ceil(2 * w) + 1000)
return {1, tostring(est + 1), tostring(elapsed), tostring(prev)}`;

type ScriptClient = Redis & {
  rlToken(key: string, requests: number, perMs: number, burst: number): Promise<[number, string]>;
  rlLeaky(key: string, requests: number, perMs: number, burst: number): Promise<[number, string]>;
  rlWindow(key: string, requests: number, perMs: number): Promise<[number, string, string, string]>;
};

// ioredis loads on the first Redis-backed policy, not at startup: most sidecars never use it and importing it
// costs ~45 modules of startup time and memory (docs/benchmarks.md). A config-time require, once per process.
const load = createRequire(import.meta.url);

export function createRedisClient(host: string, port: number, commandTimeoutMs: number): Redis {
  const { Redis: RedisClient } = load("ioredis") as typeof import("ioredis");
  const client = new RedisClient({
    host,
    port,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever, but never more often than every second once it keeps failing.
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
  });
  client.defineCommand("rlToken", { numberOfKeys: 1, lua: TOKEN_BUCKET });
  client.defineCommand("rlLeaky", { numberOfKeys: 1, lua: LEAKY_BUCKET });
  client.defineCommand("rlWindow", { numberOfKeys: 1, lua: SLIDING_WINDOW });
  return client;
}

/** One decision from Redis; rejects (timeout, connection down) so the caller applies its failure mode. */
export async function redisTake(client: Redis, algorithm: Algorithm, key: string, l: Limit): Promise<Decision> {
  const c = client as ScriptClient;
  if (algorithm === "TokenBucket") {
    const [ok, tokensText] = await c.rlToken(key, l.requests, l.perMs, l.burst);
    const tokens = Number(tokensText);
    const rate = l.requests / l.perMs;
    return { allowed: ok === 1, remaining: Math.floor(tokens), resetMs: (l.burst - tokens) / rate, retryAfterMs: ok === 1 ? 0 : (1 - tokens) / rate, delayMs: 0 };
  }
  if (algorithm === "LeakyBucket") {
    const [ok, delayText] = await c.rlLeaky(key, l.requests, l.perMs, l.burst);
    const delay = Number(delayText);
    const interval = l.perMs / l.requests;
    const maxDelay = l.burst * interval;
    return ok === 1
      ? { allowed: true, remaining: Math.max(0, Math.floor((maxDelay - delay) / interval)), resetMs: delay + interval, retryAfterMs: 0, delayMs: delay }
      : { allowed: false, remaining: 0, resetMs: delay, retryAfterMs: delay - maxDelay + interval, delayMs: 0 };
  }
  const [ok, estText, elapsedText] = await c.rlWindow(key, l.requests, l.perMs);
  const est = Number(estText);
  const elapsed = Number(elapsedText);
  return ok === 1
    ? { allowed: true, remaining: Math.max(0, Math.floor(l.requests - est)), resetMs: l.perMs - elapsed, retryAfterMs: 0, delayMs: 0 }
    : { allowed: false, remaining: 0, resetMs: l.perMs - elapsed, retryAfterMs: Math.max(1, l.perMs - elapsed), delayMs: 0 };
}
