// `outrigger get [KIND] [NAME]`: resources of the current (or a given) version; -o yaml prints apply-able YAML.
import type { Command } from "commander";
import { stringify } from "yaml";
import type { AnyResource } from "../config/schema.js";
import { print, renderTable } from "./output.js";
import { cell, client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

function summary(r: AnyResource): string {
  const s = r.spec as Record<string, any>;
  switch (r.kind) {
    case "Backend":
      return `${s.endpoints?.length ?? 0} static endpoint(s)${s.subsets?.length ? `, subsets ${s.subsets.map((x: { name: string }) => x.name).join(",")}` : ""}`;
    case "Route":
      return `hosts ${(s.hosts ?? []).join(",") || "*"}, ${s.rules?.length ?? 0} rule(s)`;
    default:
      return Object.keys(s).join(",");
  }
}

export function register(program: Command): void {
  withRemote(
    program
      .command("get")
      .description("Show resources held by the control plane")
      .argument("[kind]", "Route, Backend, Mesh, … (case-insensitive)")
      .argument("[name]", "resource name")
      .option("--at <version>", "show an older version instead of the current one"),
  )
    .addHelpText("after", "\nExample:\n  outrigger get route payments -o yaml > payments.yaml")
    .action(async (kind: string | undefined, name: string | undefined, opts: RemoteOptions & { at?: string }) => {
      const fmt = format(opts);
      const q = new URLSearchParams();
      if (kind) q.set("kind", kind);
      if (name) q.set("name", name);
      if (opts.at) q.set("version", opts.at);
      const r = await client(opts).call<{ version: number; hash: string; items: AnyResource[] }>("GET", `/v1/resources?${q}`).catch(failApi);
      if (fmt === "yaml") return void process.stdout.write(r.items.map((i) => stringify(i)).join("---\n"));
      print(r, fmt, () => `${renderTable(["KIND", "NAME", "SUMMARY"], r.items.map((i) => [i.kind, i.metadata.name, cell(summary(i), 60)]))}\n(version ${r.version}, ${r.items.length} resource(s))`);
    });
}
