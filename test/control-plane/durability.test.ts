// Crash safety of the file store: 100 applies while the server is killed with SIGKILL at random moments
// (often mid-apply). After every restart the history is contiguous, every version's content matches its
// hash, and every apply the server acknowledged is there with the same hash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { hashResources } from "../../src/config/compile.js";
import type { AnyResource } from "../../src/config/schema.js";
import { makeToken, newDataDir, resource, startControlPlane, type ControlPlaneProc } from "../support/control-plane.js";
import { freePort } from "../support/ports.js";

const APPLIES = 100;

async function checkHistory(dataDir: string, acked: Map<number, string>): Promise<number> {
  // A temp file left by a write cut short is not a version (the rename never happened); the server removes it at start.
  const files = (await readdir(join(dataDir, "versions"))).filter((f) => !f.includes(".tmp-")).sort();
  files.forEach((f, i) => assert.equal(f, `v${String(i + 1).padStart(8, "0")}.json`, `history is contiguous (${files.join(",")})`));
  for (const f of files) {
    const v = JSON.parse(await readFile(join(dataDir, "versions", f), "utf8")) as { version: number; hash: string; resources: AnyResource[] };
    assert.equal(hashResources(v.resources), v.hash, `${f}: content matches its hash`);
  }
  for (const [n, hash] of acked) {
    const v = JSON.parse(await readFile(join(dataDir, "versions", `v${String(n).padStart(8, "0")}.json`), "utf8")) as { hash: string };
    assert.equal(v.hash, hash, `acknowledged version ${n} survived`);
  }
  return files.length;
}

test("kill -9 at random moments during 100 applies: history stays consistent and acknowledged applies survive", async () => {
  const dataDir = await newDataDir();
  const port = await freePort();
  const operator = await makeToken(dataDir, "operator");
  const acked = new Map<number, string>();
  let cp: ControlPlaneProc = await startControlPlane({ dataDir, port, operator });
  let kills = 0;
  let nextKill = 1 + Math.floor(Math.random() * 15);
  const deadline = Date.now() + 90_000;
  try {
    for (let i = 1; i <= APPLIES && Date.now() < deadline; i++) {
      const body = JSON.stringify({ files: [{ name: `apply-${i}.yaml`, text: resource("Backend", "payments", { endpoints: [{ address: `127.0.0.1:${10_000 + i}` }] }) }], message: `apply ${i}` });
      const pending = fetch(`${cp.url}/v1/apply`, { method: "POST", headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" }, body })
        .then(async (r) => (r.status === 201 ? ((await r.json()) as { version: number; hash: string }) : undefined))
        .catch(() => undefined);
      if (i === nextKill) {
        // Kill while this apply is in flight, at a random point in its write path.
        await new Promise((r) => setTimeout(r, Math.random() * 15));
        await cp.proc.kill("SIGKILL");
        kills++;
        const r = await pending;
        if (r) acked.set(r.version, r.hash);
        await checkHistory(dataDir, acked);
        cp = await startControlPlane({ dataDir, port, operator });
        assert.deepEqual((await readdir(join(dataDir, "versions"))).filter((f) => f.includes(".tmp-")), [], "restart removed leftover temp files");
        nextKill = i + 1 + Math.floor(Math.random() * 15);
      } else {
        const r = await pending;
        assert.ok(r, `apply ${i} succeeded`);
        acked.set(r.version, r.hash);
      }
    }
  } finally {
    await cp.proc.kill("SIGKILL");
  }
  const n = await checkHistory(dataDir, acked);
  assert.ok(kills >= 5, `killed ${kills} times`);
  assert.ok(n >= acked.size && acked.size >= APPLIES - kills, `${n} versions stored, ${acked.size} acknowledged, ${kills} kills`);
  // The audit log may lose at most the line of an apply cut by the kill; it stays parseable.
  const audit = (await readFile(join(dataDir, "audit.jsonl"), "utf8")).split("\n").filter(Boolean);
  let torn = 0;
  for (const line of audit)
    try {
      JSON.parse(line);
    } catch {
      torn++;
    }
  assert.ok(torn <= kills, `${torn} torn audit lines`);
});
