// Load balancing and passive health through a real sidecar: round robin order, power-of-two-choices on
// least-request and EWMA latency, and ejection of refusing/resetting endpoints with a growing back-off, then readmission.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { sidecarYaml, tempDir, type TempDir } from "../support/config.js";

const named = (name: string, delayMs = 0) =>
  startEcho({
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      setTimeout(() => res.end(name), delayMs);
    },
  });

let dir: TempDir;
let outbound: number;
let sidecar: Proc;
const ups: Echo[] = [];
let rr: Echo[];
let lr: Echo[];
let ew: Echo[];
let good: Echo;
let refusedPort: number;
let resetter: net.Server;
let resetPort: number;

before(async () => {
  dir = tempDir();
  rr = [await named("a"), await named("b"), await named("c")];
  lr = [await named("slow", 400), await named("fast")];
  ew = [await named("slow", 40), await named("fast")];
  good = await named("good");
  ups.push(...rr, ...lr, ...ew, good);
  resetter = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => resetter.listen(0, "127.0.0.1", r));
  resetPort = (resetter.address() as net.AddressInfo).port;
  let admin: number;
  let app: number;
  [outbound, admin, app, refusedPort] = (await freePorts(4)) as [number, number, number, number];
  const ph = { baseEjectionTime: "300ms", maxEjectionTime: "10s" };
  const file = dir.write(
    "lb.yaml",
    sidecarYaml({
      app,
      outbound,
      admin,
      backends: {
        rr: { ports: rr.map((u) => u.port), loadBalancer: "RoundRobin" },
        lr: { ports: lr.map((u) => u.port), loadBalancer: "LeastRequest" },
        ew: { ports: ew.map((u) => u.port), loadBalancer: "EWMA" },
        flaky: { ports: [good.port, refusedPort], loadBalancer: "RoundRobin", passiveHealth: ph },
        resets: { ports: [good.port, resetPort], loadBalancer: "RoundRobin", passiveHealth: ph },
      },
    }),
  );
  sidecar = await startSidecar(["--config", file], admin);
});

after(async () => {
  await sidecar?.kill();
  for (const u of ups) await u.close();
  resetter?.close();
  dir?.remove();
});

async function call(host: string): Promise<{ status: number; body: string; at: number }> {
  const r = await request(`http://127.0.0.1:${outbound}/`, { headers: { host } });
  return { status: r.statusCode, body: await r.body.text(), at: Date.now() };
}

const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

test("round robin visits endpoints in turn", async () => {
  const seen: string[] = [];
  for (let i = 0; i < 30; i++) seen.push((await call("rr")).body);
  assert.deepEqual(tally(seen), { a: 10, b: 10, c: 10 });
  for (let i = 3; i < 30; i++) assert.equal(seen[i], seen[i - 3], "the same rotation repeats");
});

test("least-request (P2C) steers concurrent load away from the endpoint with requests outstanding", async () => {
  const results: string[] = [];
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    inflight.push(call("lr").then((r) => void results.push(r.body)));
    await sleep(10); // the slow endpoint holds each request 400 ms, so its in-flight count stays high
  }
  await Promise.all(inflight);
  const t = tally(results);
  assert.ok((t.fast ?? 0) >= 28, `fast should take most requests (round robin would give 20): ${JSON.stringify(t)}`);
});

test("EWMA (P2C) prefers the endpoint with lower latency", async () => {
  const results: string[] = [];
  for (let i = 0; i < 40; i++) results.push((await call("ew")).body);
  const t = tally(results);
  assert.ok((t.fast ?? 0) >= 32, `fast should take most requests: ${JSON.stringify(t)}`);
});

test("a refusing endpoint is ejected for a growing back-off, then readmitted once it answers again", async () => {
  const failures: number[] = [];
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline) {
    const r = await call("flaky");
    if (r.status === 502) failures.push(r.at);
    else assert.equal(r.body, "good", "every other request is served by the healthy endpoint");
    await sleep(10);
  }
  // Ejections of 300, 600, 1200 ms...: the refusing endpoint is tried again only after each back-off.
  assert.ok(failures.length >= 3 && failures.length <= 5, `failures at ${failures.map((f) => f - failures[0]!)}`);
  const gaps = failures.slice(1).map((t, i) => t - failures[i]!);
  gaps.forEach((g, i) => assert.ok(g >= 300 * 2 ** i * 0.9, `gap ${i} was ${g} ms; back-offs ${gaps}`));
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! > gaps[i - 1]!, `back-off grows: ${gaps}`);

  // Bring the endpoint back: after its current ejection it gets traffic again.
  const back = http.createServer((_q, s) => s.end("back"));
  await new Promise<void>((r) => back.listen(refusedPort, "127.0.0.1", r));
  try {
    const until = Date.now() + 8_000;
    let served = false;
    while (!served && Date.now() < until) {
      const r = await call("flaky");
      assert.notEqual(r.status, 502, "the revived endpoint does not fail");
      served = r.body === "back";
      await sleep(25);
    }
    assert.ok(served, "the endpoint was readmitted");
  } finally {
    back.closeAllConnections();
    back.close();
  }
});

test("a resetting endpoint is ejected too: one 502, then the healthy endpoint serves", async () => {
  const results: { status: number; body: string }[] = [];
  for (let i = 0; i < 10; i++) results.push(await call("resets"));
  const bad = results.filter((r) => r.status !== 200);
  assert.equal(bad.length, 1, JSON.stringify(results));
  assert.equal(bad[0]!.status, 502);
  assert.ok(results.filter((r) => r.body === "good").length === 9);
});
