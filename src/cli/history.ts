// `outrigger history`: config versions, newest first: who, when, what and why.
import type { Command } from "commander";
import { print, renderTable } from "./output.js";
import { ago, cell, client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

interface Row {
  version: number;
  hash: string;
  author: string;
  time: string;
  message: string;
  action: string;
  resources: number;
}

export function register(program: Command): void {
  withRemote(program.command("history").description("List config versions, newest first").option("--limit <n>", "how many versions", "20")).action(async (opts: RemoteOptions & { limit: string }) => {
    const fmt = format(opts);
    const r = await client(opts).call<{ items: Row[] }>("GET", `/v1/versions?limit=${encodeURIComponent(opts.limit)}`).catch(failApi);
    print(r, fmt, () =>
      renderTable(
        ["VERSION", "WHEN", "AUTHOR", "ACTION", "RESOURCES", "HASH", "MESSAGE"],
        r.items.map((v) => [String(v.version), ago(v.time), cell(v.author, 32), v.action, String(v.resources), v.hash.slice(0, 12), cell(v.message, 40)]),
      ),
    );
  });
}
