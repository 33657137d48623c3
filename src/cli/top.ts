// `outrigger top`: a live terminal view of services, edges and routes with RED from the collector, redrawn every
// second (on a TTY in the alternate screen; otherwise one frame per interval, or a bounded number with --iterations).
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { bold, dim, EXIT, fail, green, red, renderTable, yellow } from "./output.js";

interface TopOptions {
  collector: string;
  tokenFile?: string;
  window: string;
  interval: string;
  iterations?: string;
  once: boolean;
  output?: string;
}

type Red = { rps: number; errorRate: number; p50: number | null; p95: number | null; p99: number | null; status429: number; status5xx: number };

const ms = (v: number | null) => (v === null ? "-" : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v >= 10 ? 0 : 1)}ms`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const errColour = (v: number, s: string) => (v >= 0.05 ? red(s) : v >= 0.01 ? yellow(s) : green(s));
const redCells = (r: Red) => [r.rps.toFixed(1), errColour(r.errorRate, pct(r.errorRate)), ms(r.p50), ms(r.p95), ms(r.p99), String(r.status429), String(r.status5xx)];

export function register(program: Command): void {
  program
    .command("top")
    .description("Live RED (rate, errors, duration) of services, edges and routes, from the collector")
    .option("--collector <url>", "collector base URL (or OUTRIGGER_COLLECTOR_URL)", process.env.OUTRIGGER_COLLECTOR_URL ?? "http://127.0.0.1:4318")
    .option("--token-file <file>", "file holding a viewer token (or OUTRIGGER_COLLECTOR_TOKEN)")
    .option("--window <seconds>", "RED over this many seconds", "30")
    .option("--interval <seconds>", "refresh period", "1")
    .option("--iterations <n>", "stop after n frames")
    .option("--once", "print one frame and exit (same as --iterations 1)", false)
    .option("-o, --output <format>", "json: one JSON document per frame instead of tables")
    .addHelpText("after", "\nExample (after `source $OUTRIGGER_DEMO_DIR/demo.env`):\n  outrigger top\n  outrigger top --once -o json | jq '.services[] | {service, rps}'")
    .action(async (opts: TopOptions) => {
      await runTop(opts);
    });
}

async function fetchJson(url: string, token: string): Promise<any> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  const body = (await r.json().catch(() => ({}))) as any;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${body?.error?.code ?? ""} ${body?.error?.message ?? ""}`.trim());
  return body;
}

export function renderFrame(d: { services: any[]; edges: any[]; routes: any[]; anomalies: any[]; window: number; collector: string }): string {
  const head = ["req/s", "errors", "p50", "p95", "p99", "429", "5xx"];
  const lines = [
    `${bold("outrigger top")}  ${dim(`${d.collector} · last ${d.window}s · ${new Date().toLocaleTimeString()}`)}`,
    "",
    renderTable(["SERVICE", "VERSIONS", ...head], d.services.map((s) => [s.service, (s.versions ?? []).join(","), ...redCells(s)])),
    "",
    renderTable(["EDGE", ...head], d.edges.map((e) => [`${e.source} → ${e.target}`, ...redCells(e)])),
    "",
    renderTable(["ROUTE", "DIR", ...head], d.routes.map((r) => [`${r.service} ${r.route}`, r.direction === "inbound" ? "in" : "out", ...redCells(r)])),
  ];
  if (d.anomalies.length) lines.push("", bold("ANOMALIES"), ...d.anomalies.map((a) => `  ${red(a.kind)}  ${a.message}`));
  return lines.join("\n");
}

export async function runTop(opts: TopOptions): Promise<void> {
  let token = process.env.OUTRIGGER_COLLECTOR_TOKEN ?? "";
  if (opts.tokenFile) token = (await readFile(opts.tokenFile, "utf8").catch((e: Error) => fail(`--token-file: ${e.message}`, EXIT.USAGE))).trim();
  if (!token) fail("a viewer token is needed: --token-file FILE or OUTRIGGER_COLLECTOR_TOKEN", EXIT.USAGE);
  const window = Number(opts.window);
  const interval = Number(opts.interval);
  if (!(window > 0)) fail(`--window must be a positive number of seconds (got "${opts.window}")`, EXIT.USAGE);
  if (!(interval > 0)) fail(`--interval must be a positive number of seconds (got "${opts.interval}")`, EXIT.USAGE);
  const iterations = opts.once ? 1 : opts.iterations ? Number(opts.iterations) : Infinity;
  if (!(iterations >= 1)) fail(`--iterations must be ≥ 1 (got "${opts.iterations}")`, EXIT.USAGE);
  const base = opts.collector.replace(/\/+$/, "");
  const json = opts.output === "json";
  const live = Boolean(process.stdout.isTTY) && !json && iterations > 1;
  if (live) {
    process.stdout.write("\x1b[?1049h\x1b[?25l");
    const restore = () => process.stdout.write("\x1b[?25h\x1b[?1049l");
    process.on("exit", restore);
    process.on("SIGINT", () => process.exit(0));
  }
  let failures = 0;
  for (let i = 0; i < iterations; i++) {
    const started = Date.now();
    try {
      const [ov, routes] = await Promise.all([fetchJson(`${base}/api/overview?window=${window}`, token), fetchJson(`${base}/api/routes?window=${window}`, token)]);
      const frame = { collector: base, window, services: ov.services, edges: ov.edges, routes: routes.items, anomalies: ov.anomalies };
      if (json) process.stdout.write(JSON.stringify(frame) + "\n");
      else process.stdout.write(live ? `\x1b[H\x1b[2J${renderFrame(frame)}\n` : `${renderFrame(frame)}\n\n`);
      failures = 0;
    } catch (err) {
      failures++;
      const msg = `cannot read ${base}: ${(err as Error).message}`;
      if (!live || iterations === 1) {
        process.stderr.write(`error: ${msg}\n`);
        if (iterations === 1 || failures >= 5) process.exit(EXIT.UNAVAILABLE);
      } else process.stdout.write(`\x1b[H\x1b[2J${red(msg)}\n`);
    }
    if (i + 1 < iterations) await sleep(Math.max(0, interval * 1000 - (Date.now() - started)));
  }
}
