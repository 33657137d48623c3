#!/usr/bin/env node
// The `outrigger` command: wires one module per command; nothing else lives here.
import { Command } from "commander";
import { commandsFor } from "./commands.js";

const program = new Command("outrigger")
  .description("Outrigger: a lightweight service mesh of Node.js sidecars")
  .version("0.1.0", "-V, --cli-version")
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
  });

for (const register of await commandsFor(process.argv[2])) register(program);

await program.parseAsync(process.argv);
