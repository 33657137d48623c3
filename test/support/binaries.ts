// Real external tools (curl, openssl, redis-server, promtool, chromium). A missing one is reported loudly;
// in CI (CI=true) it is a failure, because .ci/run installs them all.
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";

export function hasBinary(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Returns true when the binary is present; otherwise fails in CI or skips loudly elsewhere. */
export function requireBinary(t: TestContext, name: string): boolean {
  if (hasBinary(name)) return true;
  const msg = `REQUIRED BINARY MISSING: "${name}" is not installed; .ci/run installs it (apt-get).`;
  if (process.env.CI) throw new Error(msg);
  process.stderr.write(`\n*** ${msg} Skipping. ***\n`);
  t.skip(msg);
  return false;
}

/** For tools the issue asks to use "where available" and that no Debian package provides (kubectl):
 *  present → true; absent → a loud skip, also in CI. */
export function optionalBinary(t: TestContext, name: string): boolean {
  if (hasBinary(name)) return true;
  const msg = `OPTIONAL BINARY MISSING: "${name}" is not installed; this check runs where it is.`;
  process.stderr.write(`\n*** ${msg} Skipping. ***\n`);
  t.skip(msg);
  return false;
}
