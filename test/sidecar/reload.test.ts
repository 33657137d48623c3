// Config reload through real sidecar processes: a file change and SIGHUP swap the plan atomically under load;
// a bad new config (schema or compile error) is rejected, logged and counted while the old plan keeps serving.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePorts } from "../support/ports.js";
import { startSidecar } from "../support/processes.js";
import { startEcho, type Echo } from "../support/upstreams.js";
import { sidecarYaml, tempDir, type TempDir } from "../support/config.js";

let one: Echo;
let two: Echo;
let dir: TempDir;

const named = (name: string) =>
  startEcho({
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      res.end(name);
    },
  });

before(async () => {
  one = await named("one");
  two = await named("two");
  dir = tempDir();
});

after(async () => {
  await one?.close();
  await two?.close();
  dir?.remove();
});

/** Replaces the file the way editors and ConfigMaps do: write elsewhere, rename over. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function start(name: string, port: number, extraArgs: string[] = []) {
  const [outbound, admin, app] = (await freePorts(3)) as [number, number, number];
  const yaml = (p: number) => sidecarYaml({ app, outbound, admin, backends: { svc: [p] } });
  const file = dir.write(name, yaml(port));
  const proc = await startSidecar(["--config", file, ...extraArgs], admin);
  return { proc, outbound, admin, file, yaml };
}

/** Requests in a loop from several clients until stopped; every answer is recorded. */
function load(port: number) {
  const answers: string[] = [];
  const failures: string[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        const r = await request(`http://127.0.0.1:${port}/`, { headers: { host: "svc" } });
        const body = await r.body.text();
        if (r.statusCode === 200) answers.push(body);
        else failures.push(`${r.statusCode} ${body}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    answers,
    failures,
    last: () => answers.at(-1),
    async stop() {
      stop = true;
      await Promise.all(workers);
    },
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function reloads(admin: number): Promise<{ applied: number; rejected: number; version: string }> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  const count = (result: string) => Number(new RegExp(`^outrigger_config_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  const ready = (await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as { configVersion: string };
  return { applied: count("applied"), rejected: count("rejected"), version: ready.configVersion };
}

test("file change swaps the plan under load with no failed request; bad configs are rejected while the old serves", async () => {
  const sc = await start("watched.yaml", one.port);
  const l = load(sc.outbound);
  try {
    await until("traffic on the first plan", () => l.last() === "one");
    const v0 = (await reloads(sc.admin)).version;

    replace(sc.file, sc.yaml(two.port));
    await until("traffic moved to the new endpoint", () => l.last() === "two");
    const r1 = await reloads(sc.admin);
    assert.ok(r1.applied >= 1, JSON.stringify(r1));
    assert.notEqual(r1.version, v0);

    // Schema error: unknown field.
    replace(sc.file, sc.yaml(one.port).replace("  service: checkout", "  service: checkout\n  servce: typo"));
    await until("the bad config to be rejected", async () => (await reloads(sc.admin)).rejected >= 1);
    // Compile error: a Route to a Backend that does not exist.
    replace(sc.file, `${sc.yaml(one.port)}---\napiVersion: outrigger.dev/v1alpha1\nkind: Route\nmetadata: { name: r }\nspec:\n  hosts: [svc]\n  rules:\n    - backendRefs: [{ name: ghost }]\n`);
    await until("the second bad config to be rejected", async () => (await reloads(sc.admin)).rejected >= 2);
    const r2 = await reloads(sc.admin);
    assert.equal(r2.version, r1.version, "the old plan is still in force");
    const before = l.answers.length;
    await until("more traffic", () => l.answers.length > before + 20);
    assert.ok(l.answers.slice(before).every((a) => a === "two"), "the old plan keeps serving");
    const logs = sc.proc.stdout() + sc.proc.stderr();
    assert.match(logs, /"event":"config.rejected"[^\n]*servce/);
    assert.match(logs, /"event":"config.rejected"[^\n]*ghost/);

    // Fixing the file applies again.
    replace(sc.file, sc.yaml(one.port));
    await until("traffic back on the first endpoint", () => l.last() === "one");
  } finally {
    await l.stop();
    await sc.proc.kill();
  }
  assert.deepEqual(l.failures.slice(0, 5), [], "no request failed across four swaps and two rejections");
  assert.ok(l.answers.length > 20);
});

test("SIGHUP reloads (with --no-watch, only SIGHUP does)", async () => {
  const sc = await start("hup.yaml", one.port, ["--no-watch"]);
  const l = load(sc.outbound);
  try {
    await until("traffic on the first plan", () => l.last() === "one");
    replace(sc.file, sc.yaml(two.port));
    const mark = l.answers.length;
    await until("some traffic after the file changed", () => l.answers.length > mark + 50);
    assert.ok(l.answers.slice(mark).every((a) => a === "one"), "no reload without SIGHUP when --no-watch");
    sc.proc.child.kill("SIGHUP");
    await until("traffic moved after SIGHUP", () => l.last() === "two");
    assert.equal((await reloads(sc.admin)).applied, 1);
  } finally {
    await l.stop();
    await sc.proc.kill();
  }
  assert.deepEqual(l.failures.slice(0, 5), []);
});
