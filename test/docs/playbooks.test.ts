// Every playbook's shell blocks marked `sh test` run, in order, against a live demo, exactly as written
// after `source $OUTRIGGER_DEMO_DIR/demo.env`, as a reader does. A block fails the test when it exits non-zero.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { requireBinary } from "../support/binaries.js";
import { startDemo } from "../support/demo.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PLAYBOOKS = ["canary.md", "feature-gated-telemetry.md", "troubleshooting.md"];

export function testBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh test\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

// The commands as a reader types them, in a shell that sourced the demo's env file (which defines `outrigger`).
const PRELUDE = `set -euo pipefail
source "$OUTRIGGER_DEMO_DIR/demo.env"
`;

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", PRELUDE + script], { cwd: ROOT, env, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

test("playbooks: every `sh test` block runs green against the demo", { timeout: 240_000 }, async (t) => {
  if (!requireBinary(t, "jq") || !requireBinary(t, "curl")) return;
  const demo = await startDemo();
  try {
    const env = { ...process.env, ...demo.env };
    for (const file of PLAYBOOKS) {
      const blocks = testBlocks(await readFile(path.join(ROOT, "docs", "playbooks", file), "utf8"));
      assert.ok(blocks.length >= 2, `${file} has test blocks`);
      for (const [i, block] of blocks.entries()) {
        const r = await run(block, env);
        assert.equal(r.code, 0, `${file} block ${i + 1} failed:\n${block}\n--- output ---\n${r.out}`);
      }
    }
  } finally {
    assert.equal(await demo.stop(), 0);
  }
});
