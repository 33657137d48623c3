// `outrigger control-plane`: run one control-plane replica (file store in --data, or --store redis://… for HA).
import type { Command } from "commander";
import { isIP } from "node:net";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseAddress } from "../config/units.js";
import { startControlPlane } from "../control-plane/plane.js";
import { createLogger } from "../telemetry/logger.js";
import { EXIT, fail, yellow } from "./output.js";

interface Options {
  data: string;
  ca?: string;
  insecureHttp?: boolean;
  listen: string;
  store?: string;
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));

export function register(program: Command): void {
  program
    .command("control-plane")
    .description("Run a control-plane replica: versioned config, registry, push to sidecars, audit")
    .requiredOption("--data <dir>", "directory for the embedded store (versions, audit log, tokens)")
    .option("--listen <host:port>", "address to serve the API on", "127.0.0.1:15010")
    .option("--store <url>", "redis://HOST:PORT[/DB] to share state between replicas (default: file store in --data)")
    .option("--ca <dir>", "mesh CA directory (default: env OUTRIGGER_CA_DIR or <data>/ca); when present, the API is served over TLS and issues workload certificates")
    .option("--insecure-http", "serve plain HTTP even when a CA exists (loopback development and tests only)")
    .option("--workload-cert-ttl <duration>", "lifetime of issued workload certificates", "24h")
    .addHelpText(
      "after",
      "\nFirst run:\n  outrigger token create --data ./cp --role operator     # prints an operator token once\n  outrigger control-plane --data ./cp --listen 127.0.0.1:15010\n\nTwo replicas sharing Redis:\n  outrigger control-plane --data ./cp1 --listen 127.0.0.1:15010 --store redis://127.0.0.1:6379\n  outrigger control-plane --data ./cp2 --listen 127.0.0.1:15011 --store redis://127.0.0.1:6379",
    )
    .action(async (opts: Options) => {
      let addr;
      try {
        addr = parseAddress(opts.listen);
      } catch (err) {
        fail(`--listen: ${(err as Error).message}`, EXIT.USAGE);
      }
      const logger = createLogger("control-plane");
      const tls = !opts.insecureHttp && existsSync(join(opts.ca ?? process.env.OUTRIGGER_CA_DIR ?? join(opts.data, "ca"), "ca.key"));
      if (!isLoopback(addr.host) && !tls)
        process.stderr.write(`${yellow("warning:", process.stderr)} serving plain HTTP on ${addr.key}: tokens and config cross the network unencrypted. Bind to 127.0.0.1, or create the mesh CA (outrigger ca init --dir <data>/ca) to serve TLS.\n`);
      let cp;
      try {
        cp = await startControlPlane({ dataDir: opts.data, storeUrl: opts.store, host: addr.host, port: addr.port, logger, flags: { ...opts } });
      } catch (err) {
        fail(`cannot start the control plane: ${(err as Error).message}`, EXIT.UNAVAILABLE);
      }
      logger.info({ event: "control-plane.ready", listen: cp.address.key, store: cp.store.kind, routes: cp.server.routes.list().length }, "control plane ready");
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ event: "control-plane.signal", signal }, "shutting down");
        await cp.close();
        process.exit(0);
      };
      process.on("SIGTERM", () => void stop("SIGTERM"));
      process.on("SIGINT", () => void stop("SIGINT"));
    });
}
