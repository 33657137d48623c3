// The legacy (pre-1.29) sidecar's two promises, against a real sidecar process: the postStart hook
// (`outrigger probe --wait`) returns only once the sidecar is ready, and POST /quitquitquit from the app
// (loopback) makes the sidecar exit 0 so a Job's pod can complete.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cli, runCli, startSidecar } from "../support/processes.js";
import { freePorts } from "../support/ports.js";

test("probe --wait holds until the sidecar's /readyz answers, then exits 0", async () => {
  const [admin, inbound, outbound] = await freePorts(3);
  const readyz = `http://127.0.0.1:${admin}/readyz`;
  const waiting = runCli(["probe", "--wait", "30s", readyz]);
  // Nothing listens yet: the hook must still be waiting, not failed.
  const early = await Promise.race([waiting.exited, new Promise((r) => setTimeout(() => r("still waiting"), 600))]);
  assert.equal(early, "still waiting");
  const sc = runCli(["sidecar", "--service", "job", "--app", "127.0.0.1:9", "--inbound", String(inbound), "--outbound", String(outbound), "--admin", String(admin)]);
  try {
    assert.equal(await waiting.exited, 0, waiting.stderr());
    const once = await cli(["probe", readyz]);
    assert.equal(once.code, 0);
  } finally {
    await sc.kill("SIGKILL");
    await waiting.kill("SIGKILL");
  }
});

test("probe fails with exit 3 and a reason when nothing becomes healthy in time", async () => {
  const [port] = await freePorts(1);
  const r = await cli(["probe", "--wait", "400ms", `http://127.0.0.1:${port}/readyz`]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /not healthy after 400ms/);
  const usage = await cli(["probe", "not a url"]);
  assert.equal(usage.code, 2);
});

test("POST /quitquitquit from loopback: the sidecar drains and exits 0", async () => {
  const [admin, inbound, outbound] = await freePorts(3);
  const sc = await startSidecar(["--service", "job", "--app", "127.0.0.1:9", "--inbound", String(inbound), "--outbound", String(outbound)], admin);
  try {
    const wrong = await fetch(`http://127.0.0.1:${admin}/quitquitquit`);
    assert.equal(wrong.status, 404, "GET is not a way to stop the sidecar");
    await wrong.body?.cancel();
    const r = await fetch(`http://127.0.0.1:${admin}/quitquitquit`, { method: "POST" });
    assert.equal(r.status, 202);
    assert.equal(((await r.json()) as { status: string }).status, "exiting");
    const code = await Promise.race([sc.exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))]);
    assert.equal(code, 0, `sidecar should exit 0 (stderr: ${sc.stderr()})`);
  } finally {
    await sc.kill("SIGKILL");
  }
});
