// `outrigger demo`: two sample services, each behind its own sidecar process, on loopback.
// (The full demo with control plane, collector and dashboard grows from this.)
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { startSampleService } from "../demo/sample-service.js";
import { bold, dim } from "./output.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

export function register(program: Command): void {
  program
    .command("demo")
    .description("Start a small live mesh on loopback: sample services, each behind its sidecar")
    .option("--base-port <port>", "first port to use", "18000")
    .action(async (opts: { basePort: string }) => {
      const base = Number(opts.basePort);
      const children: ChildProcess[] = [];
      const p = { frontendApp: base + 1, frontendIn: base + 11, frontendOut: base + 21, frontendAdmin: base + 31, backendApp: base + 2, backendIn: base + 12, backendAdmin: base + 32 };
      await startSampleService({ name: "backend", port: p.backendApp });
      await startSampleService({ name: "frontend", port: p.frontendApp, calls: ["backend"], outbound: `127.0.0.1:${p.frontendOut}` });
      const sidecar = (args: string[]) => {
        const c = spawn(process.execPath, [MAIN, "sidecar", ...args], { stdio: ["ignore", "ignore", "inherit"] });
        children.push(c);
        return c;
      };
      sidecar(["--service", "backend", "--app", `127.0.0.1:${p.backendApp}`, "--inbound", String(p.backendIn), "--admin", String(p.backendAdmin)]);
      sidecar(["--service", "frontend", "--app", `127.0.0.1:${p.frontendApp}`, "--inbound", String(p.frontendIn), "--outbound", String(p.frontendOut), "--admin", String(p.frontendAdmin), "--endpoint", `backend=127.0.0.1:${p.backendIn}`]);
      const stop = () => {
        for (const c of children) c.kill("SIGTERM");
        process.exit(0);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      process.stdout.write(
        [
          bold("Outrigger demo is running (Ctrl-C to stop)"),
          `  frontend  app :${p.frontendApp}  inbound :${p.frontendIn}  outbound :${p.frontendOut}  admin :${p.frontendAdmin}`,
          `  backend   app :${p.backendApp}  inbound :${p.backendIn}  admin :${p.backendAdmin}`,
          "",
          "Call the frontend through its sidecar (it calls backend through its outbound sidecar):",
          `  curl -s http://127.0.0.1:${p.frontendIn}/hello`,
          "Call backend from the frontend's side, Host-header mode and forward-proxy mode:",
          `  curl -s -H 'Host: backend' http://127.0.0.1:${p.frontendOut}/hello`,
          `  curl -s -x http://127.0.0.1:${p.frontendOut} http://backend/hello`,
          dim(`Metrics: curl -s http://127.0.0.1:${p.frontendAdmin}/metrics`),
          "",
        ].join("\n"),
      );
    });
}
