// `outrigger audit`: the append-only audit log: who did what, when, to which version, and why it failed.
import type { Command } from "commander";
import type { AuditEntry } from "../control-plane/extension.js";
import { print, red, renderTable } from "./output.js";
import { cell, client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

export function register(program: Command): void {
  withRemote(program.command("audit").description("Read the control plane's audit log (oldest first)").option("--limit <n>", "how many entries (newest)", "50")).action(
    async (opts: RemoteOptions & { limit: string }) => {
      const fmt = format(opts);
      const r = await client(opts).call<{ items: AuditEntry[] }>("GET", `/v1/audit?limit=${encodeURIComponent(opts.limit)}`).catch(failApi);
      print(r, fmt, () =>
        renderTable(
          ["TIME", "WHO", "ACTION", "VERSION", "RESULT", "REASON"],
          r.items.map((e) => [e.time ?? "", cell(e.who, 32), e.action, e.version === undefined ? "-" : String(e.version), e.result === "ok" ? e.result : red(e.result), cell(e.reason ?? "", 60)]),
        ),
      );
    },
  );
}
