// Every command, by name, loaded on demand: a command imports only its own module tree, so `outrigger sidecar`
// or `outrigger get` never pays for x509 tooling, stores or the collector. To add a command: one line here.
import type { Command } from "commander";

type Register = (program: Command) => void;

export const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  "sidecar": () => import("./sidecar.js"),
  "validate": () => import("./validate.js"),
  "schema": () => import("./schema.js"),
  "demo": () => import("./demo.js"),
  "ca": () => import("./ca.js"),
  "collector": () => import("./collector.js"),
  "top": () => import("./top.js"),
  "control-plane": () => import("./control-plane.js"),
  "apply": () => import("./apply.js"),
  "get": () => import("./get.js"),
  "delete": () => import("./delete.js"),
  "history": () => import("./history.js"),
  "diff": () => import("./diff.js"),
  "rollback": () => import("./rollback.js"),
  "status": () => import("./status.js"),
  "audit": () => import("./audit.js"),
  "token": () => import("./token.js"),
  "inject": () => import("./inject.js"),
  "probe": () => import("./probe.js"),
  "explain": () => import("./explain.js"),
};

/** The commands to register for this invocation: just the one named, or all of them (help, unknown names). */
export async function commandsFor(name: string | undefined): Promise<Register[]> {
  const one = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const loaders = one ? [one] : Object.values(COMMANDS);
  return (await Promise.all(loaders.map((load) => load()))).map((m) => m.register);
}
