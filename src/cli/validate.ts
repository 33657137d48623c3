// `outrigger validate FILE...`: every error with file:line:column and field path; exit 1 when any.
import type { Command } from "commander";
import { ConfigError, formatIssue, loadFiles } from "../config/load.js";
import { EXIT, green, red } from "./output.js";

export function register(program: Command): void {
  program
    .command("validate")
    .description("Validate config files against the Outrigger schema")
    .argument("<files...>", "YAML or JSON files")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (files: string[], opts: { output: string }) => {
      try {
        const loaded = await loadFiles(files);
        if (opts.output === "json") process.stdout.write(JSON.stringify({ valid: true, resources: loaded.map((l) => `${l.resource.kind}/${l.resource.metadata.name}`) }) + "\n");
        else process.stdout.write(`${green("valid")}: ${loaded.length} resource(s) in ${files.length} file(s)\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (opts.output === "json") process.stdout.write(JSON.stringify({ valid: false, issues: err.issues }) + "\n");
        else for (const i of err.issues) process.stderr.write(`${red("error", process.stderr)} ${formatIssue(i)}\n`);
        process.exitCode = EXIT.FAILURE;
      }
    });
}
