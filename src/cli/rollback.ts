// `outrigger rollback [--to V]`: a new version with the resources of V (default: the one before the current).
import type { Command } from "commander";
import type { ChangeResult } from "../control-plane/versions.js";
import { EXIT, fail, print } from "./output.js";
import { renderChange } from "./apply.js";
import { client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

export function register(program: Command): void {
  withRemote(
    program
      .command("rollback")
      .description("Roll back to an earlier config version (recorded as a new version)")
      .option("--to <version>", "version to return to (default: the previous one)")
      .option("-m, --message <text>", "why (kept in history and audit)"),
  )
    .addHelpText("after", "\nSee docs/playbooks/rollback.md.")
    .action(async (opts: RemoteOptions & { to?: string; message?: string }) => {
      const fmt = format(opts);
      if (opts.to !== undefined && !/^\d+$/.test(opts.to)) fail(`--to must be a version number (got "${opts.to}")`, EXIT.USAGE);
      const r = await client(opts)
        .call<ChangeResult>("POST", "/v1/rollback", { ...(opts.to ? { to: Number(opts.to) } : {}), ...(opts.message ? { message: opts.message } : {}) })
        .catch(failApi);
      print(r, fmt, () => renderChange(r));
    });
}
