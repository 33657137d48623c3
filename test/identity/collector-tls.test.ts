// The collector with a mesh CA: HTTPS with a mesh-CA certificate, and its token roles enforced over TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import { cli, runCli, type Proc } from "../support/processes.js";
import { freePort } from "../support/ports.js";
import { TEST_TOKENS, writeTokenFile } from "../support/collector.js";

let dir: string;
let proc: Proc;
let url: string;
let trusted: Agent;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "collector-tls-"));
  const init = await cli(["ca", "init", "--dir", path.join(dir, "ca"), "--trust-domain", "mesh.test"]);
  assert.equal(init.code, 0, init.stderr);
  trusted = new Agent({ connect: { ca: await readFile(path.join(dir, "ca", "trust-bundle.pem"), "utf8") } });
  const port = await freePort();
  url = `https://127.0.0.1:${port}`;
  proc = runCli(["collector", "--listen", `127.0.0.1:${port}`, "--data", path.join(dir, "data"), "--token-file", await writeTokenFile(dir), "--ca", path.join(dir, "ca")]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await request(`${url}/healthz`, { dispatcher: trusted });
      await r.body.dump();
      if (r.statusCode === 200) break;
    } catch (err) {
      if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`collector not up over TLS: ${(err as Error).message} ${proc.stderr()}`);
    }
    await sleep(50);
  }
});

after(async () => {
  await proc?.kill();
  await trusted?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = async (p: string, token?: string) => {
  const r = await request(`${url}${p}`, { dispatcher: trusted, headers: token ? { authorization: `Bearer ${token}` } : {} });
  await r.body.dump();
  return r.statusCode;
};

test("collector over TLS: plain HTTP and untrusting clients fail; it says https in its log", async () => {
  await assert.rejects(request(url.replace("https:", "http:") + "/healthz", { headersTimeout: 3_000 }).then((r) => r.body.text()));
  await assert.rejects(request(`${url}/healthz`), /certificate|self-signed|issuer/i);
  assert.match(proc.stdout(), /collector listening on https:\/\//);
});

test("collector token roles over TLS: none -> 401, a sender may not read, a viewer may", async () => {
  assert.equal(await get("/metrics"), 401);
  assert.equal(await get("/metrics", TEST_TOKENS.sender), 403);
  assert.equal(await get("/metrics", TEST_TOKENS.viewer), 200);
  assert.equal(await get("/metrics", "not-a-known-token-0123456789"), 401);
});
