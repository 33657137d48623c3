// WebSocket (Upgrade) tunnelled both ways through real sidecar processes, with a real `ws` server and client:
// the handshake is validated end to end, frames flow in both directions, and close codes pass through.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { rawExchange, statusOf } from "../support/raw.js";

let server: http.Server;
let wss: WebSocketServer;
let sidecar: Proc;
let outbound: number;
let inbound: number;
let closedPort: number;
const upgradeHeaders: http.IncomingHttpHeaders[] = [];

before(async () => {
  server = http.createServer((_q, s) => s.end("plain"));
  wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req) => {
    upgradeHeaders.push(req.headers);
    ws.send(`hello ${req.url}`); // server speaks first
    ws.on("message", (data: RawData, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text === "close-please") return ws.close(4001, "asked to");
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  let admin: number;
  [outbound, inbound, admin, closedPort] = (await freePorts(4)) as [number, number, number, number];
  sidecar = await startSidecar(
    ["--service", "chat", "--app", `127.0.0.1:${port}`, "--inbound", String(inbound), "--outbound", String(outbound), "--endpoint", `chat=127.0.0.1:${port}`, "--endpoint", `gone=127.0.0.1:${closedPort}`],
    admin,
  );
});

after(async () => {
  await sidecar?.kill();
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/** Opens a client and collects messages in order. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: { data: Buffer; binary: boolean }[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data: RawData, binary) => {
    messages.push({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary });
    for (const w of waiters.splice(0)) w();
  });
  await once(ws, "open");
  const next = async () => {
    while (!messages.length) await new Promise<void>((r) => waiters.push(r));
    return messages.shift()!;
  };
  return { ws, next };
}

test("WebSocket through the outbound listener (Host-header mode): handshake, frames both ways, close code", async () => {
  const { ws, next } = await connect(`ws://127.0.0.1:${outbound}/room/1`, { host: "chat" });
  assert.equal((await next()).data.toString(), "hello /room/1", "server-to-client frame");
  ws.send("ping text");
  assert.equal((await next()).data.toString(), "ping text");
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  ws.send(big);
  const echoed = await next();
  assert.equal(echoed.binary, true);
  assert.ok(echoed.data.equals(big), "a 1 MB binary frame survives the tunnel byte for byte");
  ws.send("close-please");
  const [code, reason] = (await once(ws, "close")) as [number, Buffer];
  assert.equal(code, 4001);
  assert.equal(reason.toString(), "asked to");
  const h = upgradeHeaders.at(-1)!;
  assert.equal(h["x-forwarded-for"], "127.0.0.1");
  assert.match(h["x-request-id"] as string, /^[0-9a-f-]{36}$/);
  assert.equal(h.upgrade, "websocket");
});

test("WebSocket through the inbound listener to the app", async () => {
  const { ws, next } = await connect(`ws://127.0.0.1:${inbound}/in`);
  assert.equal((await next()).data.toString(), "hello /in");
  ws.send("x".repeat(70_000));
  assert.equal((await next()).data.length, 70_000);
  ws.close(1000);
  const [code] = (await once(ws, "close")) as [number];
  assert.equal(code, 1000);
});

test("many concurrent tunnels stay independent", async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(`ws://127.0.0.1:${outbound}/c${i}`, { host: "chat" })));
  await Promise.all(clients.map(async (c, i) => {
    assert.equal((await c.next()).data.toString(), `hello /c${i}`);
    c.ws.send(`msg ${i}`);
    assert.equal((await c.next()).data.toString(), `msg ${i}`);
    c.ws.close();
  }));
});

test("Upgrade to an unknown service: 503 UNKNOWN_SERVICE, connection closed", async () => {
  const r = await rawExchange(outbound, "GET / HTTP/1.1\r\nHost: nowhere\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 3000);
  assert.deepEqual(statusOf(r.text), [503]);
  assert.match(r.text, /x-outrigger-error: UNKNOWN_SERVICE/i);
  assert.ok(r.closed);
});

test("Upgrade to a refusing endpoint: 502 UPSTREAM_CONNECT_FAILED, connection closed", async () => {
  const r = await rawExchange(outbound, "GET / HTTP/1.1\r\nHost: gone\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 3000);
  assert.deepEqual(statusOf(r.text), [502]);
  assert.match(r.text, /x-outrigger-error: UPSTREAM_CONNECT_FAILED/i);
  assert.ok(r.closed);
});

test("the sidecar still serves plain HTTP afterwards", async () => {
  const r = await fetch(`http://127.0.0.1:${inbound}/`);
  assert.equal(await r.text(), "plain");
});
