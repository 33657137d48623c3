// `outrigger collector`: the OTLP/HTTP receiver, query API and dashboard, with bounded storage and token auth.
import path from "node:path";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import https from "node:https";
import { meshServing } from "../identity/serving.js";
import { AuditLog } from "../collector/audit.js";
import { bearerTokens, loadTokenFile } from "../collector/auth.js";
import { ControlPlaneSource, FileConfigSource } from "../collector/config-source.js";
import { Forwarder } from "../collector/forward.js";
import { SenderLimits } from "../collector/limits.js";
import { AnomalyDetector, DEFAULT_ANOMALY } from "../collector/anomalies.js";
import { Collector } from "../collector/server.js";
import { Segments } from "../collector/storage/segments.js";
import { DEFAULT_STORE, Store } from "../collector/store.js";
import { parseAddress, parseDuration } from "../config/units.js";
import { createLogger } from "../telemetry/logger.js";
import { EXIT, fail } from "./output.js";

interface CollectorCliOptions {
  listen: string;
  data: string;
  tokenFile: string;
  segments: boolean;
  retentionSize: string;
  retentionAge: string;
  segmentSize: string;
  maxTraces: string;
  maxSpans: string;
  ingestRate: string;
  ingestBurst?: string;
  bucket: string;
  forward?: string;
  forwardHeader?: string[];
  controlPlane?: string;
  controlPlaneTokenFile?: string;
  configFile?: string[];
  splitTolerance: string;
  ca?: string;
  insecureHttp?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function parseBytes(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size "${text}" (expected e.g. 512MiB, 2GiB)`);
  const unit = (m[2] ?? "B").toLowerCase();
  const mult: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Math.floor(Number(m[1]) * mult[unit]!);
}

const positiveInt = (v: string, flag: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer (got "${v}")`);
  return n;
};

export function register(program: Command): void {
  program
    .command("collector")
    .description("Run the telemetry collector: OTLP/HTTP receiver, query API and dashboard")
    .option("--listen <host:port>", "where to listen (OTLP on /v1/traces|metrics|logs, dashboard on /)", "127.0.0.1:4318")
    .option("--data <dir>", "data directory (audit log, on-disk segments)", ".outrigger/collector")
    .requiredOption("--token-file <file>", "tokens and roles (sender, viewer, operator) in YAML; see docs/collector.md")
    .option("--ca <dir>", "mesh CA directory (default: env OUTRIGGER_CA_DIR); when present, serve HTTPS with a certificate from it")
    .option("--insecure-http", "serve plain HTTP even when a CA is available (loopback development and tests only)")
    .option("--no-segments", "keep telemetry in memory only (no on-disk segments)")
    .option("--retention-size <size>", "on-disk segments: total size kept", "512MiB")
    .option("--retention-age <duration>", "on-disk segments: age kept", "24h")
    .option("--segment-size <size>", "on-disk segments: roll a segment at this size", "16MiB")
    .option("--max-traces <n>", "traces kept in memory", String(DEFAULT_STORE.maxTraces))
    .option("--max-spans <n>", "spans kept in memory", String(DEFAULT_STORE.maxSpans))
    .option("--ingest-rate <n>", "items (spans, points, log records) per second per sender before 429", "20000")
    .option("--ingest-burst <n>", "items a sender may send at once (default 2 × rate)")
    .option("--bucket <duration>", "resolution of RED rollups", "5s")
    .option("--forward <url>", "also send everything received to this OTLP/HTTP endpoint (base URL)")
    .option("--forward-header <name=value>", "header for the forward endpoint (e.g. authorization=Bearer x); repeatable", collect)
    .option("--control-plane <url>", "control plane to read the config timeline and configured splits from")
    .option("--control-plane-token-file <file>", "a viewer token for the control plane (or OUTRIGGER_CONTROL_PLANE_TOKEN)")
    .option("--config-file <file>", "without a control plane: mesh config files to read routes (configured splits) and a change timeline from; repeatable", collect)
    .option("--split-tolerance <fraction>", "observed vs configured split deviation that raises an anomaly", String(DEFAULT_ANOMALY.splitTolerance))
    .addHelpText(
      "after",
      "\nExample:\n  outrigger collector --listen 127.0.0.1:4318 --data /var/lib/outrigger/collector --token-file tokens.yaml \\\n    --control-plane http://127.0.0.1:7070 --control-plane-token-file viewer.token\n\nSenders: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <sender token>'",
    )
    .action(async (opts: CollectorCliOptions) => {
      await runCollector(opts);
    });
}

export async function runCollector(opts: CollectorCliOptions): Promise<Collector> {
  const logger = createLogger("collector");
  let collector: Collector;
  try {
    const addr = parseAddress(opts.listen);
    const tokens = await loadTokenFile(opts.tokenFile);
    const bucketMs = parseDuration(opts.bucket);
    const store = new Store({ ...DEFAULT_STORE, maxTraces: positiveInt(opts.maxTraces, "--max-traces"), maxSpans: positiveInt(opts.maxSpans, "--max-spans"), bucketMs });
    const rate = positiveInt(opts.ingestRate, "--ingest-rate");
    const limits = new SenderLimits({ itemsPerSecond: rate, burst: opts.ingestBurst ? positiveInt(opts.ingestBurst, "--ingest-burst") : rate * 2, maxSenders: 10_000 });
    const audit = new AuditLog(opts.data);
    let segments: Segments | undefined;
    if (opts.segments) {
      segments = new Segments({ dir: path.join(opts.data, "segments"), segmentBytes: parseBytes(opts.segmentSize), segmentMs: 10 * 60_000, retentionBytes: parseBytes(opts.retentionSize), retentionMs: parseDuration(opts.retentionAge), maxPendingBytes: 32 * 1024 * 1024 });
      await segments.open();
      const n = await segments.replay((l) => {
        if (l.t === "span") store.addSpan(l.r as never);
        else if (l.t === "log") store.addLog(l.r as never);
        else if (l.t === "metric") store.addMetric(l.r as never);
      });
      if (n) logger.info({ event: "collector.replayed", records: n }, `replayed ${n} records from ${segments.opts.dir}`);
    }
    const forwardHeaders: Record<string, string> = {};
    for (const h of opts.forwardHeader ?? []) {
      const i = h.indexOf("=");
      if (i <= 0) throw new Error(`--forward-header "${h}": expected NAME=VALUE`);
      forwardHeaders[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const forwarder = opts.forward ? new Forwarder({ endpoint: opts.forward, headers: forwardHeaders, maxQueueBytes: 64 * 1024 * 1024, maxAttempts: 5 }) : undefined;
    let cpToken = process.env.OUTRIGGER_CONTROL_PLANE_TOKEN;
    if (opts.controlPlaneTokenFile) cpToken = (await readFile(opts.controlPlaneTokenFile, "utf8")).trim();
    if (opts.controlPlane && opts.configFile?.length) throw new Error("use --control-plane or --config-file, not both");
    const configSource = opts.controlPlane ? new ControlPlaneSource(opts.controlPlane, cpToken) : opts.configFile?.length ? new FileConfigSource(opts.configFile) : undefined;
    const tolerance = Number(opts.splitTolerance);
    if (!(tolerance > 0 && tolerance < 1)) throw new Error(`--split-tolerance must be a fraction in (0, 1) (got "${opts.splitTolerance}")`);
    const anomalies = new AnomalyDetector(store, { ...DEFAULT_ANOMALY, splitTolerance: tolerance }, logger);
    const caDir = opts.ca ?? process.env.OUTRIGGER_CA_DIR;
    const tls = caDir && !opts.insecureHttp ? await meshServing(caDir, addr.host, "collector") : undefined;
    if (opts.ca && !tls && !opts.insecureHttp) throw new Error(`--ca ${opts.ca}: no CA there (run \`outrigger ca init --dir ${opts.ca}\`)`);
    collector = new Collector({ ...(tls ? { serve: tls.serve } : {}), host: addr.host, port: addr.port, store, logger, authenticators: [bearerTokens(tokens)], limits, audit, anomalies, ...(configSource ? { configSource } : {}), ...(forwarder ? { forwarder } : {}), ...(segments ? { segments } : {}) });
  } catch (err) {
    fail((err as Error).message, EXIT.USAGE);
  }
  try {
    await collector.start();
  } catch (err) {
    fail(`cannot listen on ${opts.listen}: ${(err as Error).message}`, EXIT.UNAVAILABLE);
  }
  const { address, port } = collector.address;
  const url = `${collector.server instanceof https.Server ? "https" : "http"}://${address.includes(":") ? `[${address}]` : address}:${port}`;
  logger.info({ event: "collector.listening", url, otlp: `${url}/v1/traces`, dashboard: `${url}/` }, `collector listening on ${url}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "collector.signal", signal }, "shutting down");
    await collector.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return collector;
}
