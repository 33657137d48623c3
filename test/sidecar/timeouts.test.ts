// Upstream timeouts through real sidecar processes: connect, response headers, idle body and the whole request,
// each with its error code and status (or a cut response once the head was sent).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar, type Proc } from "../support/processes.js";
import { startBlackhole, startEcho, type Echo } from "../support/upstreams.js";
import { requireBinary } from "../support/binaries.js";
import { sidecarYaml, tempDir, type TempDir } from "../support/config.js";

let up: Echo;
let dir: TempDir;
const sidecars: Proc[] = [];
const ports: Record<"tight" | "deadline", number> = { tight: 0, deadline: 0 };

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  switch (req.url) {
    case "/hold":
      return;
    case "/stall-body":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("some bytes, then silence");
      return;
    case "/drip": {
      res.writeHead(200, { "content-type": "text/plain" });
      const t = setInterval(() => res.write("."), 100);
      res.on("close", () => clearInterval(t));
      return;
    }
    default:
      res.end("ok");
  }
}

async function sidecarWith(limits: Record<string, string>, backends: Record<string, number[]>): Promise<number> {
  const [outbound, admin, app] = (await freePorts(3)) as [number, number, number];
  const file = dir.write(`sc-${outbound}.yaml`, sidecarYaml({ app, outbound, admin, limits, backends }));
  sidecars.push(await startSidecar(["--config", file], admin));
  return outbound;
}

before(async () => {
  up = await startEcho({ handler });
  dir = tempDir();
  ports.tight = await sidecarWith({ connectTimeout: "500ms", headersTimeout: "600ms", idleTimeout: "700ms" }, { slow: [up.port] });
  ports.deadline = await sidecarWith({ requestTimeout: "800ms", headersTimeout: "20s", idleTimeout: "20s" }, { slow: [up.port] });
});

after(async () => {
  for (const s of sidecars) await s.kill();
  await up?.close();
  dir?.remove();
});

async function timed(port: number, path: string, host = "slow") {
  const t0 = performance.now();
  const r = await request(`http://127.0.0.1:${port}${path}`, { headers: { host } });
  const body = (await r.body.json()) as { error: { code: string } };
  return { status: r.statusCode, code: body.error.code, header: r.headers["x-outrigger-error"], ms: performance.now() - t0 };
}

/** Reads a response until the connection ends; says whether the body ended cleanly. */
async function readToEnd(port: number, path: string) {
  const t0 = performance.now();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get({ host: "127.0.0.1", port, path, headers: { host: "slow" }, agent: false }, resolve).on("error", reject),
  );
  let bytes = 0;
  res.on("data", (c: Buffer) => (bytes += c.length));
  const clean = await new Promise<boolean>((resolve) => {
    res.once("end", () => resolve(true));
    res.once("error", () => resolve(false));
    res.once("aborted", () => resolve(false));
  });
  return { status: res.statusCode, clean, bytes, ms: performance.now() - t0 };
}

test("connect timeout: 504 UPSTREAM_TIMEOUT when the endpoint never completes the handshake", async (t) => {
  if (!requireBinary(t, "python3")) return;
  const hole = await startBlackhole();
  try {
    const port = await sidecarWith({ connectTimeout: "400ms" }, { hole: [hole.port] });
    const r = await timed(port, "/", "hole");
    assert.deepEqual([r.status, r.code, r.header], [504, "UPSTREAM_TIMEOUT", "UPSTREAM_TIMEOUT"]);
    assert.ok(r.ms >= 350 && r.ms < 10_000, `took ${r.ms} ms`);
  } finally {
    await hole.close();
  }
});

test("response-headers timeout: 504 UPSTREAM_TIMEOUT after headersTimeout", async () => {
  const r = await timed(ports.tight, "/hold");
  assert.deepEqual([r.status, r.code, r.header], [504, "UPSTREAM_TIMEOUT", "UPSTREAM_TIMEOUT"]);
  assert.ok(r.ms >= 550 && r.ms < 10_000, `took ${r.ms} ms`);
});

test("idle timeout: a body that goes silent past idleTimeout is cut, not ended cleanly", async () => {
  const r = await readToEnd(ports.tight, "/stall-body");
  assert.equal(r.status, 200);
  assert.equal(r.clean, false);
  assert.ok(r.bytes > 0);
  assert.ok(r.ms >= 600 && r.ms < 10_000, `took ${r.ms} ms`);
});

test("whole-request timeout: 504 REQUEST_TIMEOUT before the response head", async () => {
  const r = await timed(ports.deadline, "/hold");
  assert.deepEqual([r.status, r.code, r.header], [504, "REQUEST_TIMEOUT", "REQUEST_TIMEOUT"]);
  assert.ok(r.ms >= 750 && r.ms < 10_000, `took ${r.ms} ms`);
});

test("whole-request timeout: a response still trickling at the deadline is cut", async () => {
  const r = await readToEnd(ports.deadline, "/drip");
  assert.equal(r.status, 200);
  assert.equal(r.clean, false);
  assert.ok(r.ms >= 750 && r.ms < 10_000, `took ${r.ms} ms`);
});

test("fast requests are unaffected by the deadline", async () => {
  for (let i = 0; i < 20; i++) {
    const r = await request(`http://127.0.0.1:${ports.deadline}/`, { headers: { host: "slow" } });
    assert.equal(await r.body.text(), "ok");
  }
});
