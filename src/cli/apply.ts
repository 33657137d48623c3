// `outrigger apply -f FILE|DIR [--dry-run] [-m MSG]`: one transaction on the control plane; prints the diff.
import type { Command } from "commander";
import type { ChangeResult } from "../control-plane/versions.js";
import { EXIT, fail, green, print, red } from "./output.js";
import { readManifests } from "./manifests.js";
import { client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  withRemote(
    program
      .command("apply")
      .description("Apply resources to the control plane as one new config version")
      .requiredOption("-f, --file <file|dir>", "YAML/JSON file or directory of them; repeatable", collect)
      .option("--dry-run", "validate and print the diff; store nothing")
      .option("-m, --message <text>", "what the change is for (kept in history and audit)"),
  )
    .addHelpText("after", "\nExample:\n  outrigger apply -f examples/mesh/ -m 'shift 5% to payments v2'\n  outrigger apply -f route.yaml --dry-run")
    .action(async (opts: RemoteOptions & { file: string[]; dryRun?: boolean; message?: string }) => {
      const fmt = format(opts);
      let files;
      try {
        files = await readManifests(opts.file);
      } catch (err) {
        fail((err as Error).message, EXIT.USAGE);
      }
      const r = await client(opts)
        .call<ChangeResult>("POST", "/v1/apply", { files, dryRun: !!opts.dryRun, ...(opts.message ? { message: opts.message } : {}) })
        .catch(failApi);
      print(r, fmt, () => renderChange(r));
    });
}

export function renderChange(r: ChangeResult): string {
  const lines: string[] = [];
  for (const c of r.changes) {
    lines.push(`${c.change === "added" ? green("+") : c.change === "removed" ? red("-") : "~"} ${c.key} (${c.change})`);
    for (const l of c.lines ?? []) lines.push(`    ${l.startsWith("+") ? green(l) : l.startsWith("-") ? red(l) : l}`);
  }
  if (r.dryRun) lines.push(`${green("valid")}: ${r.changes.length} change(s) against version ${r.version}; nothing stored (dry run)`);
  else if (r.unchanged) lines.push(`unchanged: version ${r.version} already has these resources`);
  else lines.push(`${green("applied")}: version ${r.version} (${r.hash}), ${r.changes.length} change(s)`);
  return lines.join("\n");
}
