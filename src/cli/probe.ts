// `outrigger probe URL`: one HTTP health check (the image's HEALTHCHECK), or with --wait a bounded wait until
// it passes (the legacy sidecar's postStart hook, which holds the app container until the sidecar is ready).
import type { Command } from "commander";
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../config/units.js";
import { EXIT, fail } from "./output.js";

export const DEFAULT_PROBE_URL = "http://127.0.0.1:15000/healthz";

export function register(program: Command): void {
  program
    .command("probe")
    .description("Check an admin endpoint (exit 0 on 2xx); with --wait, poll until it passes or time runs out")
    .argument("[url]", `URL to GET (default: $OUTRIGGER_PROBE_URL or ${DEFAULT_PROBE_URL})`)
    .option("--wait <duration>", "keep polling up to this long (e.g. 60s)")
    .option("--timeout <duration>", "timeout of one attempt", "2s")
    .addHelpText("after", "\nExit codes: 0 healthy, 3 not healthy (or not reachable) in time, 2 usage.")
    .action(async (url: string | undefined, opts: { wait?: string; timeout: string }) => {
      const target = url ?? process.env.OUTRIGGER_PROBE_URL ?? DEFAULT_PROBE_URL;
      let waitMs = 0;
      let attemptMs = 2000;
      try {
        new URL(target);
        if (opts.wait) waitMs = parseDuration(opts.wait);
        attemptMs = parseDuration(opts.timeout);
      } catch (err) {
        fail((err as Error).message, EXIT.USAGE);
      }
      const deadline = Date.now() + waitMs;
      let last = "";
      for (;;) {
        try {
          const r = await fetch(target, { signal: AbortSignal.timeout(attemptMs) });
          await r.body?.cancel();
          if (r.ok) return;
          last = `status ${r.status}`;
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() >= deadline) break;
        await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
      }
      fail(`${target} not healthy${waitMs ? ` after ${opts.wait}` : ""} (${last})`, EXIT.UNAVAILABLE);
    });
}
