// Shared rate limits through a real redis-server: three sidecar processes sharing 300/min (sliding window)
// admit 300 ± 5% in total; when Redis is killed mid-test each policy applies its failure mode (local fallback scaled by sidecar
// count, fail-closed, fail-open), with a metric and a log line, no crash and no long waits.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { runCli, waitForHttp, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { tempDir, type TempDir } from "../support/config.js";
import { hasBinary } from "../support/binaries.js";
import { startRedis, type RedisServer } from "../support/redis.js";
import { sample } from "../support/sidecars.js";

let redis: RedisServer | undefined;
let app: Echo;
let dir: TempDir;
const sidecars: { proc: Proc; inbound: number; admin: number }[] = [];

const config = (inbound: number, admin: number, redisPort: number) => `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: api }
spec: { service: api, app: "127.0.0.1:${app.port}", inbound: ${inbound}, admin: ${admin} }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: api }
spec:
  hosts: ["*"]
  direction: inbound
  rules:
    - { name: shared, matches: [{ path: { value: /shared } }] }
    - { name: closed, matches: [{ path: { value: /closed } }] }
    - { name: open, matches: [{ path: { value: /open } }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: shared }
spec:
  targetRefs: [{ kind: Route, name: api, sectionName: shared }]
  algorithm: SlidingWindow
  limit: { requests: 300, per: 1m }
  redis: { address: "127.0.0.1:${redisPort}", onFailure: LocalFallback, sidecars: 3, commandTimeout: 500ms }
---
apiVersion: outrigger.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: closed }
spec:
  targetRefs: [{ kind: Route, name: api, sectionName: closed }]
  limit: { requests: 1000, per: 1m }
  redis: { address: "127.0.0.1:${redisPort}", onFailure: FailClosed, commandTimeout: 500ms }
---
apiVersion: outrigger.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: open }
spec:
  targetRefs: [{ kind: Route, name: api, sectionName: open }]
  limit: { requests: 1, per: 1m }
  redis: { address: "127.0.0.1:${redisPort}", onFailure: FailOpen, commandTimeout: 500ms }
`;

before(async () => {
  if (!hasBinary("redis-server")) return;
  redis = await startRedis();
  app = await startEcho({ name: "api" });
  dir = tempDir();
  const ports = await freePorts(6);
  for (let i = 0; i < 3; i++) {
    const inbound = ports[i * 2]!;
    const admin = ports[i * 2 + 1]!;
    const file = dir.write(`sidecar-${i}.yaml`, config(inbound, admin, redis.port));
    sidecars.push({ proc: runCli(["sidecar", "--config", file, "--no-watch"]), inbound, admin });
  }
  for (const s of sidecars) {
    await waitForHttp(`http://127.0.0.1:${s.admin}/readyz`, 30_000);
    // Wait until this sidecar's Redis client is connected, so no request falls back at start.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = (await (await fetch(`http://127.0.0.1:${s.admin}/readyz`)).json()) as { traffic?: { redis?: Record<string, string> } };
      if (r.traffic?.redis?.[`127.0.0.1:${redis.port}`] === "ready") break;
      if (Date.now() > deadline) throw new Error(`sidecar ${s.admin} never connected to Redis: ${JSON.stringify(r)}`);
      await sleep(50);
    }
  }
});

after(async () => {
  await Promise.all(sidecars.map((s) => s.proc.kill()));
  await redis?.kill();
  await app?.close();
  dir?.remove();
});

/** Sends n requests spread round-robin over the three sidecars; returns the status of each and the slowest. */
async function burst(path: string, n: number, concurrency = 12) {
  const statuses: number[] = [];
  let slowest = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < n) {
        const s = sidecars[i++ % 3]!;
        const t0 = performance.now();
        const r = await request(`http://127.0.0.1:${s.inbound}${path}`, { headers: { "x-client-id": "c" } });
        await r.body.dump();
        slowest = Math.max(slowest, performance.now() - t0);
        statuses.push(r.statusCode);
      }
    }),
  );
  return { ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length, other: statuses.filter((s) => s !== 200 && s !== 429), slowest };
}

test("three sidecars sharing a Redis limit of 300/min admit 300 ± 5% in total; then Redis dies", async (t) => {
  if (!redis) {
    if (process.env.CI) throw new Error("REQUIRED BINARY MISSING: redis-server");
    t.skip("REQUIRED BINARY MISSING: redis-server (install it; .ci/run does)");
    return;
  }
  // Both phases must fall inside one minute window (the sliding window weighs the previous minute).
  const into = Date.now() % 60_000;
  if (into > 35_000) await sleep(60_000 - into + 50);
  const shared = await burst("/shared", 600);
  assert.deepEqual(shared.other, []);
  assert.ok(shared.ok >= 285 && shared.ok <= 315, `admitted ${shared.ok} of 600 (want 300 ± 5%)`);
  const perSidecar = await Promise.all(sidecars.map(async (s) => sample(await (await fetch(`http://127.0.0.1:${s.admin}/metrics`)).text(), "outrigger_ratelimit_decisions_total", { policy: "shared", result: "allowed", source: "redis" }) ?? 0));
  assert.ok(perSidecar.every((n) => n > 50), `each sidecar admitted part of the shared quota: ${perSidecar}`);
  const open = await burst("/open", 6, 1);
  assert.equal(open.ok, 1, "FailOpen policy limits normally while Redis is up");

  await redis.kill();

  // LocalFallback: each sidecar now enforces 300 / 3 = 100 per minute on its own.
  const fallback = await burst("/shared", 450);
  assert.deepEqual(fallback.other, [], "no 5xx: the sidecars keep serving");
  assert.ok(fallback.ok >= 285 && fallback.ok <= 315, `fallback admitted ${fallback.ok} (3 × 100 expected)`);
  assert.ok(fallback.slowest < 3000, `no unbounded wait: slowest ${fallback.slowest.toFixed(0)} ms`);
  const closed = await burst("/closed", 30);
  assert.equal(closed.limited, 30, "FailClosed refuses while Redis is down");
  const open2 = await burst("/open", 30);
  assert.equal(open2.ok, 30, "FailOpen admits while Redis is down");

  for (const s of sidecars) {
    assert.equal(s.proc.child.exitCode, null, "no crash");
    assert.equal((await fetch(`http://127.0.0.1:${s.admin}/readyz`)).status, 200);
    const m = await (await fetch(`http://127.0.0.1:${s.admin}/metrics`)).text();
    assert.ok((sample(m, "outrigger_ratelimit_decisions_total", { policy: "shared", source: "fallback" }) ?? 0) > 0);
    assert.ok((sample(m, "outrigger_ratelimit_store_errors_total", { policy: "shared" }) ?? 0) > 0);
    assert.match(s.proc.stdout(), /"event":"ratelimit.redis.down"/);
  }
});
