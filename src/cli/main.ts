#!/usr/bin/env node
// The `outrigger` command: wires one module per command; nothing else lives here.
import { Command } from "commander";

const program = new Command("outrigger")
  .description("Outrigger: a lightweight service mesh of Node.js sidecars")
  .version("0.1.0", "-V, --cli-version")
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
  });

// `outrigger sidecar` loads only its own command module: the other commands pull in what a sidecar never needs
// (x509 tooling, control-plane stores, the collector), which would slow every sidecar start (docs/benchmarks.md).
const COMMANDS = process.argv[2] === "sidecar" ? [(await import("./sidecar.js")).register] : (await import("./commands.js")).COMMANDS;
for (const register of COMMANDS) register(program);

await program.parseAsync(process.argv);
