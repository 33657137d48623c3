// `outrigger schema`: print the JSON Schema of every resource kind (committed as schema/outrigger.schema.json).
import type { Command } from "commander";
import { jsonSchema } from "../config/schema.js";

export function register(program: Command): void {
  program
    .command("schema")
    .description("Print the JSON Schema for Outrigger resources (for editors and CI)")
    .action(() => {
      process.stdout.write(JSON.stringify(jsonSchema(), null, 2) + "\n");
    });
}
