// Hostile HTTP/1.1 input over raw sockets: every framing attack gets a 4xx and a closed connection, the sidecar
// keeps serving, and the upstream sees exactly what it should — never a smuggled second request.
import { test, after, before, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { rawExchange, statusOf } from "../support/raw.js";

let up: Echo;
let sidecar: Proc;
let outbound: number;
let inbound: number;
/** Every request the upstream saw start, and those whose body it received completely. */
let started: string[] = [];
let completed: string[] = [];

before(async () => {
  up = await startEcho({
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      started.push(`${req.method} ${req.url}`);
      req.on("data", () => {});
      req.on("end", () => {
        completed.push(`${req.method} ${req.url}`);
        res.end("ok");
      });
      req.on("error", () => {});
    },
  });
  let admin: number;
  [outbound, inbound, admin] = (await freePorts(3)) as [number, number, number];
  sidecar = await startSidecar(
    ["--service", "checkout", "--app", `127.0.0.1:${up.port}`, "--inbound", String(inbound), "--outbound", String(outbound), "--endpoint", `payments=127.0.0.1:${up.port}`],
    admin,
  );
});

after(async () => {
  await sidecar?.kill();
  await up?.close();
});

beforeEach(() => {
  started = [];
  completed = [];
});

/** Sends the payload; then proves the sidecar still serves with a sentinel request and returns what the upstream saw before it. */
async function probe(payload: string | Buffer, port = outbound) {
  const res = await rawExchange(port, payload, 3000);
  const sentinel = await rawExchange(port, "GET /sentinel HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n", 3000);
  assert.deepEqual(statusOf(sentinel.text), [200], "the sidecar still serves afterwards");
  await sleep(50); // anything smuggled was dispatched before the hostile connection closed; give it a beat to land
  const seen = started.filter((s) => s !== "GET /sentinel");
  return { ...res, statuses: statusOf(res.text), seen, completed: completed.filter((s) => s !== "GET /sentinel") };
}

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: payments\r\n\r\n";

function assertRejected(r: Awaited<ReturnType<typeof probe>>, status: number, code?: string) {
  assert.deepEqual(r.statuses, [status], r.text);
  assert.ok(r.closed, "the connection is closed after the error");
  assert.match(r.text, /\r\nconnection: close\r\n/i);
  if (code) assert.match(r.text, new RegExp(`\\r\\nx-outrigger-error: ${code}\\r\\n`, "i"));
  assert.ok(!r.seen.includes("GET /smuggled"), "no smuggled request reached the upstream");
}

test("Content-Length together with Transfer-Encoding: 400, nothing forwarded", async () => {
  const r = await probe(`POST /a HTTP/1.1\r\nHost: payments\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`);
  assertRejected(r, 400, "BAD_REQUEST");
  assert.deepEqual(r.seen, []);
});

test("two different Content-Lengths: 400, nothing forwarded", async () => {
  const r = await probe(`POST /a HTTP/1.1\r\nHost: payments\r\nContent-Length: 5\r\nContent-Length: 45\r\n\r\nhello${SMUGGLED}`);
  assertRejected(r, 400);
  assert.deepEqual(r.seen, []);
});

test("Transfer-Encoding that does not end in chunked: 400, nothing forwarded", async () => {
  const r = await probe(`POST /a HTTP/1.1\r\nHost: payments\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`);
  assertRejected(r, 400);
  assert.deepEqual(r.seen, []);
});

test("bad chunk size: 400 (or a cut response), the upstream never gets a complete body, nothing smuggled", async () => {
  const r = await probe(`POST /chunky HTTP/1.1\r\nHost: payments\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n${SMUGGLED}`);
  assert.ok(r.closed);
  assert.ok(r.statuses.length <= 1 && r.statuses.every((s) => s === 400), r.text);
  assert.ok(!r.seen.includes("GET /smuggled"));
  assert.deepEqual(r.completed, [], "the upstream never saw the bad body as complete");
});

test("chunk size overflow (hex longer than 64 bits): rejected, nothing smuggled", async () => {
  const r = await probe(`POST /chunky HTTP/1.1\r\nHost: payments\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n${SMUGGLED}`);
  assert.ok(r.closed);
  assert.ok(r.statuses.every((s) => s === 400), r.text);
  assert.deepEqual(r.completed, []);
  assert.ok(!r.seen.includes("GET /smuggled"));
});

test("obs-fold (a header continued on the next line): 400, nothing forwarded", async () => {
  const r = await probe(`GET /fold HTTP/1.1\r\nHost: payments\r\nX-Folded: a\r\n b\r\n\r\n${SMUGGLED}`);
  assertRejected(r, 400);
  assert.deepEqual(r.seen, []);
});

test("oversized header section: 431, nothing forwarded", async () => {
  const r = await probe(`GET /big HTTP/1.1\r\nHost: payments\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
  assertRejected(r, 431, "REQUEST_HEADERS_TOO_LARGE");
  assert.deepEqual(r.seen, []);
});

test("too many header fields: 431, nothing forwarded", async () => {
  let h = "";
  for (let i = 0; i < 150; i++) h += `X-H${i}: ${i}\r\n`;
  const r = await probe(`GET /many HTTP/1.1\r\nHost: payments\r\n${h}\r\n${SMUGGLED}`);
  assertRejected(r, 431, "REQUEST_HEADERS_TOO_LARGE");
  assert.deepEqual(r.seen, []);
});

for (const [name, line] of [
  ["unknown version", "GET / HTTP/9.9"],
  ["garbage", "GARBAGE"],
  ["space in target", "GET /a b HTTP/1.1"],
  ["control byte in target", "GET /a\x01b HTTP/1.1"],
  ["lower-case method", "get / HTTP/1.1"],
  ["missing target", "GET HTTP/1.1"],
] as const) {
  test(`bad request line (${name}): 400, nothing forwarded`, async () => {
    const r = await probe(`${line}\r\nHost: payments\r\n\r\n${SMUGGLED}`);
    assertRejected(r, 400);
    assert.deepEqual(r.seen, []);
  });
}

test("absurd URI: 414 whether it is just over the limit or far beyond the header buffer", async () => {
  for (const len of [9_000, 100_000]) {
    const r = await probe(`GET /${"u".repeat(len)} HTTP/1.1\r\nHost: payments\r\n\r\n`);
    assertRejected(r, 414, "URI_TOO_LONG");
    assert.deepEqual(r.seen, []);
  }
});

test("unsupported absolute-form target (https:// through the plain proxy): 400 BAD_PROXY_TARGET", async () => {
  const r = await probe(`GET https://payments/x HTTP/1.1\r\nHost: payments\r\n\r\n`);
  assertRejected(r, 400, "BAD_PROXY_TARGET");
  assert.deepEqual(r.seen, []);
});

test("the inbound listener rejects the same framing attack", async () => {
  const r = await probe(`POST /a HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, inbound);
  assertRejected(r, 400);
  assert.deepEqual(r.seen, []);
});

test("a pipelined well-formed pair is served in order (pipelining is not smuggling)", async () => {
  const r = await rawExchange(outbound, "POST /one HTTP/1.1\r\nHost: payments\r\nContent-Length: 3\r\n\r\nabcGET /two HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n", 3000);
  assert.deepEqual(statusOf(r.text), [200, 200]);
  assert.deepEqual(started, ["POST /one", "GET /two"]);
});
