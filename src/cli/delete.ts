// `outrigger delete KIND NAME`: removes one resource as a new config version.
import type { Command } from "commander";
import type { ChangeResult } from "../control-plane/versions.js";
import { print } from "./output.js";
import { renderChange } from "./apply.js";
import { client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

export function register(program: Command): void {
  withRemote(
    program
      .command("delete")
      .description("Delete a resource from the control plane (a new config version)")
      .argument("<kind>", "Route, Backend, …")
      .argument("<name>", "resource name")
      .option("--dry-run", "validate and print the diff; store nothing")
      .option("-m, --message <text>", "why (kept in history and audit)"),
  ).action(async (kind: string, name: string, opts: RemoteOptions & { dryRun?: boolean; message?: string }) => {
    const fmt = format(opts);
    const q = new URLSearchParams();
    if (opts.dryRun) q.set("dryRun", "true");
    if (opts.message) q.set("message", opts.message);
    const r = await client(opts).call<ChangeResult>("DELETE", `/v1/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}?${q}`).catch(failApi);
    print(r, fmt, () => renderChange(r));
  });
}
