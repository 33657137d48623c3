// `outrigger status`: every sidecar the control plane knows: service, instance, version acknowledged,
// last seen, stale or not, and the last NACK reason.
import type { Command } from "commander";
import type { StatusRow } from "../control-plane/registry.js";
import { print, red, renderTable, yellow } from "./output.js";
import { ago, cell, client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

export function register(program: Command): void {
  withRemote(program.command("status").description("Show every sidecar's config version, freshness and last NACK")).action(async (opts: RemoteOptions) => {
    const fmt = format(opts);
    const r = await client(opts).call<{ headVersion: number; sidecars: StatusRow[] }>("GET", "/v1/status").catch(failApi);
    print(r, fmt, () =>
      [
        `current version: ${r.headVersion}; sidecars: ${r.sidecars.length}, stale: ${r.sidecars.filter((s) => s.stale).length}`,
        renderTable(
          ["SERVICE", "INSTANCE", "ADDRESS", "ACKED", "LAST SEEN", "STALE", "LAST NACK"],
          r.sidecars.map((s) => [
            cell(s.service, 20),
            cell(s.instance, 28),
            s.address ?? "-",
            s.ackedVersion === undefined ? "-" : String(s.ackedVersion),
            ago(s.lastSeen),
            s.stale ? yellow("yes") : "no",
            s.lastNack ? red(cell(`v${s.lastNack.version}: ${s.lastNack.reason}`, 50)) : "-",
          ]),
        ),
      ].join("\n"),
    );
  });
}
