// `outrigger explain -f CONFIG METHOD URL [-H k:v]`: which route, backend split, limits, faults and timeouts a
// request would get from this config, and why. Nothing is sent.
import type { Command } from "commander";
import { compilePlan } from "../config/compile.js";
import { ConfigError, loadFiles } from "../config/load.js";
import { explainRequest, renderExplanation } from "../sidecar/explain.js";
import { EXIT, fail, parseFormat, print } from "./output.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command("explain")
    .description("Show the route, backend split, limits, faults and timeouts a request would get, and why")
    .requiredOption("-f, --file <config>", "config file (YAML or JSON); repeatable", collect)
    .argument("<method>", "HTTP method, e.g. GET")
    .argument("<url>", "http://HOST/PATH?QUERY, or /PATH with -H host:HOST")
    .option("-H, --header <name:value>", "request header; repeatable", collect)
    .option("--inbound", "explain the inbound chain (a request into this sidecar's app)")
    .option("--identity <spiffe-id>", "the caller's mTLS identity (for ClientIdentity rate-limit keys)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .addHelpText("after", "\nExample:\n  outrigger explain -f examples/traffic/canary.yaml GET http://payments/api/charge -H x-tenant:acme")
    .action(async (method: string, url: string, opts: { file: string[]; header?: string[]; inbound?: boolean; identity?: string; output: string }) => {
      let format;
      try {
        format = parseFormat(opts.output);
      } catch (err) {
        fail((err as Error).message, EXIT.USAGE);
      }
      const headers: Record<string, string> = {};
      for (const h of opts.header ?? []) {
        const i = h.indexOf(":");
        if (i <= 0) fail(`-H "${h}": expected NAME:VALUE`, EXIT.USAGE);
        headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      if (!/^https?:\/\//i.test(url) && !headers.host) fail(`"${url}" has no host: give an absolute URL (http://HOST/PATH) or -H host:HOST`, EXIT.USAGE);
      let plan;
      try {
        const loaded = await loadFiles(opts.file);
        plan = compilePlan(loaded.map((l) => l.resource), opts.file.join(","));
      } catch (err) {
        fail(err instanceof ConfigError ? `invalid config:\n${err.message}` : (err as Error).message, EXIT.USAGE);
      }
      const e = explainRequest(plan, { method, url, headers, direction: opts.inbound ? "inbound" : "outbound", ...(opts.identity ? { peer: { address: "127.0.0.1", identity: opts.identity } } : {}) });
      print(e, format, () => renderExplanation(e));
      if (e.error) process.exitCode = EXIT.FAILURE;
    });
}
