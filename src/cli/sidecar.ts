// `outrigger sidecar`: run one sidecar from a config file and/or quick flags; reload on SIGHUP or file change.
import { watch } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { compilePlan, type Plan } from "../config/compile.js";
import { ConfigError, loadFiles } from "../config/load.js";
import { resourcesFromFlags, type QuickFlags } from "../config/flags.js";
import type { AnyResource } from "../config/schema.js";
import { Sidecar } from "../sidecar/server.js";
import { ControlPlaneClient } from "../control-plane/client/feature.js";
import { createLogger } from "../telemetry/logger.js";
import { EXIT, fail } from "./output.js";

interface SidecarCliOptions extends QuickFlags {
  config?: string[];
  watch: boolean;
  controlPlane?: string;
  tokenFile?: string;
  lastKnownGood?: string;
  instance?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command("sidecar")
    .description("Run a sidecar next to one service instance")
    .option("-c, --config <file>", "config file (YAML or JSON, several documents); repeatable", collect)
    .option("--service <name>", "service this sidecar fronts")
    .option("--version <version>", "version of the service (label and subset)")
    .option("--app <host:port>", "where the app listens")
    .option("--inbound <[host:]port>", "inbound listener (traffic for the app)")
    .option("--outbound <[host:]port>", "outbound listener (the app's calls to other services)")
    .option("--admin <[host:]port>", "admin listener (/healthz /readyz /config /metrics /drain)")
    .option("--envelope <[host:]port>", "app envelope listener on loopback (POST /v1/envelope: app events, metrics, spans, logs)")
    .option("--endpoint <svc=host:port,...>", "static endpoints of an outbound service; repeatable", collect)
    .option("--control-plane <url[,url]>", "receive mesh config from these control-plane replicas (failover in order)")
    .option("--token-file <file>", "bearer token (role sidecar) for the control plane")
    .option("--last-known-good <file>", "where to keep the last config from the control plane (default .outrigger/SERVICE.last-known-good.json)")
    .option("--instance <id>", "instance id in the control plane's registry (default SERVICE-HOST-PID)")
    .option("--no-watch", "do not reload when the config file changes (SIGHUP still reloads)")
    .addHelpText("after", "\nExample:\n  outrigger sidecar --service checkout --app 127.0.0.1:8080 --inbound 15006 --outbound 15001 --admin 15000 \\\n    --endpoint payments=127.0.0.1:9001,127.0.0.1:9002")
    .action(async (opts: SidecarCliOptions) => {
      await runSidecar(opts);
    });
}

async function loadPlan(opts: SidecarCliOptions): Promise<Plan> {
  const files = opts.config ?? [];
  const fromFiles: AnyResource[] = (await loadFiles(files)).map((l) => l.resource);
  const fromFlags = resourcesFromFlags(opts, fromFiles);
  const sidecarFromFlags = fromFlags.some((r) => r.kind === "Sidecar");
  const merged = [...(sidecarFromFlags ? fromFiles.filter((r) => r.kind !== "Sidecar") : fromFiles), ...fromFlags];
  return compilePlan(withControlPlane(merged, opts), files.join(",") || "<flags>");
}

/** --control-plane and friends become the Sidecar resource's `controlPlane` field (flags win over the file). */
function withControlPlane(resources: AnyResource[], opts: SidecarCliOptions): AnyResource[] {
  if (!opts.controlPlane && !opts.tokenFile && !opts.lastKnownGood && !opts.instance) return resources;
  return resources.map((r) => {
    if (r.kind !== "Sidecar") return r;
    const prev = r.spec.controlPlane;
    const urls = opts.controlPlane ? opts.controlPlane.split(",").map((u) => u.trim()).filter(Boolean) : prev?.urls;
    if (!urls?.length) throw new Error("--token-file, --last-known-good and --instance need --control-plane URL (or controlPlane.urls in the Sidecar resource)");
    for (const u of urls) if (!/^https?:\/\/[^/]+/.test(u)) throw new Error(`--control-plane: "${u}" is not an http(s) URL`);
    const controlPlane = {
      ...prev,
      urls,
      ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
      ...(opts.lastKnownGood ? { lastKnownGood: opts.lastKnownGood } : {}),
      ...(opts.instance ? { instance: opts.instance } : {}),
    };
    return { ...r, spec: { ...r.spec, controlPlane } };
  });
}

export async function runSidecar(opts: SidecarCliOptions): Promise<Sidecar> {
  let plan: Plan;
  try {
    plan = await loadPlan(opts);
  } catch (err) {
    fail(err instanceof ConfigError ? `invalid config:\n${err.message}` : (err as Error).message, EXIT.USAGE);
  }
  const logger = createLogger(plan.sidecar.service);
  const sidecar = new Sidecar(plan, { logger });
  try {
    await sidecar.start();
  } catch (err) {
    fail(`cannot start listeners: ${(err as Error).message}`, EXIT.UNAVAILABLE);
  }

  let reloading: Promise<void> = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        const next = await loadPlan(opts);
        if (next.version === sidecar.currentPlan.version) return;
        logger.info({ event: "config.reload", why, version: next.version }, "reloading config");
        // With a control plane, local config is merged with the pushed config rather than replacing it.
        const cp = sidecar.features.find((f) => f instanceof ControlPlaneClient && f.active) as ControlPlaneClient | undefined;
        if (cp) cp.reloadLocal(next.resources);
        else sidecar.swap(next);
      } catch (err) {
        sidecar.rejectConfig(err);
      }
    });
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  if (opts.watch && opts.config?.length) {
    let timer: NodeJS.Timeout | undefined;
    // Watch each file's directory, not the file: editors, `sed -i` and Kubernetes ConfigMaps replace the file
    // (rename over it), after which a watch on the old inode would never fire again.
    for (const f of opts.config) {
      const name = path.basename(f);
      watch(path.dirname(path.resolve(f)), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name && !changed.startsWith("..")) return;
        clearTimeout(timer);
        timer = setTimeout(() => reload(`file ${f} changed`), 100).unref();
      }).on("error", () => {});
    }
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "sidecar.signal", signal }, "shutting down");
    await sidecar.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return sidecar;
}
