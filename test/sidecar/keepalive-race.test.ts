// The keep-alive race: a real Node upstream closes idle sockets after a short keepAliveTimeout, and requests are
// spaced around that timeout so the sidecar keeps reusing sockets the upstream is closing at that very moment.
// The forwarder retries once on a fresh connection when a reused socket dies before any response byte: 0 errors.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";

const KEEP_ALIVE_MS = 10;
let up: Echo;
let sidecar: Proc;
let outbound: number;
let upstreamConnections = 0;
let idleCloses = 0;

before(async () => {
  up = await startEcho({
    // Node's own keep-alive timer closes 1 s after the advertised timeout to dodge this very race; many servers
    // (and Node's, once the hint is dropped by a middlebox) do not. So the app closes idle sockets itself, exactly
    // at KEEP_ALIVE_MS after its last response, with no Keep-Alive hint (Connection set by hand suppresses it).
    keepAliveTimeout: 60_000,
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket as IdleSocket;
      clearTimeout(socket.idleTimer);
      req.resume();
      // A busy app: while it computes, another socket's idle timer comes due, and the timers phase closes that
      // socket before the poll phase reads the request already waiting on it — the race, as in production.
      const until = performance.now() + 1;
      while (performance.now() < until);
      res.writeHead(200, { connection: "keep-alive", "content-length": 2 });
      res.end("ok");
      res.once("finish", () => {
        socket.idleTimer = setTimeout(() => {
          idleCloses++;
          socket.destroy();
        }, KEEP_ALIVE_MS);
      });
    },
  });
  up.server.on("connection", () => upstreamConnections++);
  const [o, admin, app] = (await freePorts(3)) as [number, number, number];
  outbound = o;
  sidecar = await startSidecar(["--service", "checkout", "--app", `127.0.0.1:${app}`, "--outbound", String(outbound), "--endpoint", `flaky=127.0.0.1:${up.port}`], admin);
});

type IdleSocket = import("node:net").Socket & { idleTimer?: NodeJS.Timeout };

after(async () => {
  await sidecar?.kill();
  await up?.close();
});

test("2,000 requests spaced around the upstream's keepAliveTimeout: 0 errors", async () => {
  const TOTAL = 2000;
  const WORKERS = 16;
  const failures: string[] = [];
  let sent = 0;
  const deadline = Date.now() + 55_000;
  const methods = ["GET", "GET", "HEAD", "POST", "DELETE"] as const;
  const worker = async (w: number) => {
    let i = 0;
    while (sent < TOTAL && Date.now() < deadline) {
      sent++;
      i++;
      // Sweep the gap across the upstream's idle timeout (7..11 ms) so many requests land exactly as it closes.
      await sleep(KEEP_ALIVE_MS - 3 + ((i * 7 + w * 3) % 5));
      const method = methods[(i + w) % methods.length]!;
      try {
        const r = await request(`http://127.0.0.1:${outbound}/r${w}-${i}`, { method, headers: { host: "flaky" } });
        const body = await r.body.text();
        if (r.statusCode !== 200) failures.push(`${method} ${r.statusCode} ${r.headers["x-outrigger-error"]} ${body.slice(0, 200)}`);
      } catch (e) {
        failures.push(`${method} client error ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  process.stderr.write(`# keep-alive race: ${sent} requests, ${upstreamConnections} upstream connections, ${idleCloses} idle closes by the upstream, ${failures.length} failures\n`);
  assert.equal(sent, TOTAL, "all requests were sent within the time bound");
  assert.ok(idleCloses > 200, `the upstream closed idle sockets under the sidecar (${idleCloses})`);
  assert.deepEqual(failures.slice(0, 5), []);
});
