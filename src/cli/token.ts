// `outrigger token create --role R`: a bearer token, shown once (only its scrypt hash is stored).
// With --data/--store it writes the store directly (bootstrapping the first operator token); otherwise it
// asks the control plane, which needs an operator token.
import type { Command } from "commander";
import { isRole } from "../control-plane/auth/principal.js";
import { createToken } from "../control-plane/auth/tokens.js";
import { openStore } from "../control-plane/store/open.js";
import { userInfo } from "node:os";
import { EXIT, fail, print, renderTable } from "./output.js";
import { client, failApi, format, withRemote, type RemoteOptions } from "./remote.js";

interface CreateOptions extends RemoteOptions {
  role: string;
  service?: string;
  name?: string;
  data?: string;
  store?: string;
}

export function register(program: Command): void {
  const token = program.command("token").description("Create and list control-plane bearer tokens");
  withRemote(
    token
      .command("create")
      .description("Create a token (printed once; store it safely)")
      .requiredOption("--role <role>", "operator (write), viewer (read) or sidecar (subscribe and register one service)")
      .option("--service <name>", "for --role sidecar: the only service it may act as")
      .option("--name <name>", "a label shown in audit entries")
      .option("--data <dir>", "write directly to the file store in DIR (bootstrap; no server needed)")
      .option("--store <url>", "write directly to a redis:// store (bootstrap; no server needed)"),
    "table",
  )
    .addHelpText("after", "\nExamples:\n  outrigger token create --data ./cp --role operator --name admin   # first token, offline\n  outrigger token create --role sidecar --service payments -o json")
    .action(async (opts: CreateOptions) => {
      const fmt = format(opts);
      if (!isRole(opts.role)) fail(`--role must be operator, viewer or sidecar (got "${opts.role}")`, EXIT.USAGE);
      if (opts.role === "sidecar" && !opts.service) fail("--role sidecar needs --service NAME", EXIT.USAGE);
      let out: { token: string; id: string; role: string; name: string; service?: string | undefined };
      if (opts.data || opts.store) {
        const store = await openStore(opts.store, opts.data ?? ".").catch((err: Error) => fail(`cannot open the store: ${err.message}`, EXIT.UNAVAILABLE));
        try {
          const who = `local:${userInfo().username}`;
          const t = await createToken(store, { role: opts.role, createdBy: who, ...(opts.name ? { name: opts.name } : {}), ...(opts.service ? { service: opts.service } : {}) });
          await store.appendAudit({ time: new Date().toISOString(), who, action: "token.create", result: "ok", token: t.record.id, role: t.record.role, ...(opts.service ? { service: opts.service } : {}) });
          out = { token: t.token, id: t.record.id, role: t.record.role, name: t.record.name, service: t.record.service };
        } finally {
          await store.close();
        }
      } else {
        out = await client(opts)
          .call<typeof out>("POST", "/v1/tokens", { role: opts.role, ...(opts.name ? { name: opts.name } : {}), ...(opts.service ? { service: opts.service } : {}) })
          .catch(failApi);
      }
      if (fmt === "table") {
        process.stdout.write(`${out.token}\n`);
        process.stderr.write(`token ${out.id} (${out.name}, role ${out.role}${out.service ? `, service ${out.service}` : ""}): shown once; only its hash is stored.\n`);
      } else print(out, fmt);
    });
  withRemote(token.command("list").description("List tokens (ids, names, roles; never secrets)")).action(async (opts: RemoteOptions) => {
    const fmt = format(opts);
    const r = await client(opts).call<{ items: { id: string; name: string; role: string; service?: string; created: string; createdBy: string }[] }>("GET", "/v1/tokens").catch(failApi);
    print(r, fmt, () => renderTable(["ID", "NAME", "ROLE", "SERVICE", "CREATED", "BY"], r.items.map((t) => [t.id, t.name, t.role, t.service ?? "-", t.created, t.createdBy])));
  });
}
