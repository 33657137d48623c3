// Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fresh profile per run.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { requireBinary } from "./binaries.js";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium, or returns undefined after requireBinary reported it missing. */
export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!requireBinary(t, "chromium")) return undefined;
  const profile = await mkdtemp(path.join(tmpdir(), "outrigger-chromium-"));
  // launchPersistentContext is playwright's way to pass --user-data-dir (a fresh one per run).
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1440, height: 900 } });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
