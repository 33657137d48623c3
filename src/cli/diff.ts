// `outrigger diff V1 [V2]` between stored versions, or `diff [V] -f FILE|DIR` between a version (default:
// the current one) and what applying local files would produce.
import type { Command } from "commander";
import { parseResources } from "../config/load.js";
import type { AnyResource } from "../config/schema.js";
import { diffResources, keyOf, type ResourceChange } from "../control-plane/diff.js";
import { EXIT, fail, green, print, red } from "./output.js";
import { readManifests } from "./manifests.js";
import { client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  withRemote(
    program
      .command("diff")
      .description("Show what changed between two config versions, or between a version and local files")
      .argument("[v1]", "older version (default: the current one when -f is given)")
      .argument("[v2]", "newer version (default: the current one)")
      .option("-f, --file <file|dir>", "compare against local files as `apply` would merge them; repeatable", collect),
  )
    .addHelpText("after", "\nExamples:\n  outrigger diff 4 7\n  outrigger diff 6          # version 6 against the current one\n  outrigger diff -f mesh/   # what `apply -f mesh/` would change")
    .action(async (v1: string | undefined, v2: string | undefined, opts: RemoteOptions & { file?: string[] }) => {
      const fmt = format(opts);
      const api = client(opts);
      const at = async (v: string | undefined) => {
        if (v !== undefined && !/^\d+$/.test(v)) fail(`version must be a number (got "${v}")`, EXIT.USAGE);
        const r = await api.call<{ version: number; items: AnyResource[] }>("GET", `/v1/resources${v ? `?version=${v}` : ""}`).catch(failApi);
        return r;
      };
      let from: { label: string; items: AnyResource[] };
      let to: { label: string; items: AnyResource[] };
      if (opts.file?.length) {
        const base = await at(v1);
        let local: AnyResource[];
        try {
          local = (await readManifests(opts.file)).flatMap((f) => parseResources(f.text, f.name).map((l) => l.resource));
        } catch (err) {
          fail((err as Error).message, EXIT.FAILURE);
        }
        const merged = new Map(base.items.map((r) => [keyOf(r), r]));
        for (const r of local) if (r.kind !== "Sidecar") merged.set(keyOf(r), r);
        from = { label: `version ${base.version}`, items: base.items };
        to = { label: opts.file.join(","), items: [...merged.values()] };
      } else {
        if (!v1) fail("give V1 [V2], or -f FILE|DIR", EXIT.USAGE);
        const a = await at(v1);
        const b = await at(v2);
        from = { label: `version ${a.version}`, items: a.items };
        to = { label: `version ${b.version}`, items: b.items };
      }
      const changes = diffResources(from.items, to.items);
      print({ from: from.label, to: to.label, changes }, fmt, () => renderDiff(from.label, to.label, changes));
    });
}

function renderDiff(a: string, b: string, changes: ResourceChange[]): string {
  if (!changes.length) return `no differences between ${a} and ${b}`;
  const out = [`--- ${a}`, `+++ ${b}`];
  for (const c of changes) {
    out.push(`${c.change === "added" ? green("+") : c.change === "removed" ? red("-") : "~"} ${c.key} (${c.change})`);
    for (const l of c.lines ?? []) out.push(`    ${l.startsWith("+") ? green(l) : l.startsWith("-") ? red(l) : l}`);
  }
  return out.join("\n");
}
