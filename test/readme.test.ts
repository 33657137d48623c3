// The README's sidecar quick start, run exactly as written (only ports and the log path substituted, and the
// `npm ci` line skipped because the tests already run from an installed, built checkout).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { freePorts } from "./support/ports.js";
import { requireBinary } from "./support/binaries.js";
import { cli, startSidecar } from "./support/processes.js";
import { tempDir } from "./support/config.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The first ```sh block after a heading. */
function block(heading: string): string {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, `README has "${heading}"`);
  const m = /```sh\n([\s\S]*?)```/.exec(README.slice(at));
  assert.ok(m, `a sh block follows "${heading}"`);
  return m[1]!;
}

test("README sidecar quick start works as written", async (t) => {
  if (!requireBinary(t, "curl")) return;
  const dir = tempDir();
  const [app, pay, inbound, outbound, admin] = await freePorts(5);
  let script = block("## Sidecar quick start");
  assert.match(script, /^npm ci$/m);
  script = script.replace(/^npm ci\n/m, "");
  const ports: Record<string, number> = { "8080": app!, "9001": pay!, "15006": inbound!, "15001": outbound!, "15000": admin! };
  script = script.replace(/\b(8080|9001|15006|15001|15000)\b/g, (p) => String(ports[p]));
  script = script.replace("> sidecar.log", `> ${path.join(dir.dir, "sidecar.log")}`);
  const child = spawn("bash", ["-c", `set -u\n${script}\nwait`], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 45_000);
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  clearTimeout(timer);
  try {
    process.kill(-child.pid!, "SIGKILL"); // anything the block left behind
  } catch {
    /* the group is gone: the block cleaned up after itself */
  }
  dir.remove();
  assert.equal(code, 0, `exit ${code}\nstdout:\n${out}\nstderr:\n${err}`);
  const lines = out.trim().split("\n");
  assert.equal(lines[0], "checkout");
  assert.equal(lines[1], "payments: /pay");
  assert.equal(lines[2], "payments: /pay");
  const ready = JSON.parse(lines.slice(3).join("\n")) as { status: string; listeners: Record<string, { port: number }> };
  assert.equal(ready.status, "ready");
  assert.equal(ready.listeners.outbound!.port, outbound);
});

test("README config-file commands: the example validates and the sidecar starts from it", async () => {
  const cmds = block("### With a config file");
  assert.match(cmds, /^outrigger validate examples\/sidecar\.yaml/m);
  assert.match(cmds, /^outrigger sidecar --config examples\/sidecar\.yaml/m);
  const example = path.join(ROOT, "examples/sidecar.yaml");
  const r = await cli(["validate", example]);
  assert.equal(r.code, 0, r.stderr);
  // Start it on free ports (the same file with its port numbers substituted).
  const [app, a, b, inbound, outbound, admin] = await freePorts(6);
  const ports: Record<string, number> = { "8080": app!, "9001": a!, "9002": b!, "15006": inbound!, "15001": outbound!, "15000": admin! };
  const dir = tempDir();
  const file = dir.write("sidecar.yaml", readFileSync(example, "utf8").replace(/\b(8080|9001|9002|15006|15001|15000)\b/g, (p) => String(ports[p])));
  const sc = await startSidecar(["--config", file], admin!);
  try {
    const ready = (await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as { status: string };
    assert.equal(ready.status, "ready");
  } finally {
    await sc.kill();
    dir.remove();
  }
});
