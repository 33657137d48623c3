// The bench report: a table for people, targets met or not, and (printed by run.ts) one JSON line for scripts.
import type { RowResult } from "./scenario.js";
import { SCENARIOS } from "./scenarios/index.js";

export interface TargetResult {
  target: string;
  value: number | null;
  goal: string;
  met: boolean | null;
}

/** Issue 3's data-plane targets, plus each scenario's own minRatio. null = not measured in this run. */
export function evaluateTargets(rows: Map<string, RowResult>): TargetResult[] {
  const r = (n: string) => rows.get(n);
  const ratio = (a?: number, b?: number) => (a && b ? a / b : null);
  const out: TargetResult[] = [];
  const add = (target: string, value: number | null | undefined, goal: string, ok: (v: number) => boolean) =>
    out.push({ target, value: value ?? null, goal, met: value === null || value === undefined ? null : ok(value) });
  add("sidecar rps / nginx rps", ratio(r("sidecar")?.rps, r("nginx")?.rps), ">= 0.6", (v) => v >= 0.6);
  add("sidecar rps / http-proxy rps", ratio(r("sidecar")?.rps, r("http-proxy")?.rps), ">= 2", (v) => v >= 2);
  add("sidecar added p50 at moderate load (ms)", r("sidecar")?.addedP50Ms, "<= 0.3", (v) => v <= 0.3);
  add("sidecar idle RSS (MB)", r("startup")?.idleRssMb ?? r("sidecar")?.idleRssMb, "<= 50", (v) => v <= 50);
  add("sidecar spawn -> ready (ms)", r("startup")?.readyMs ?? r("sidecar")?.readyMs, "<= 200", (v) => v <= 200);
  for (const s of SCENARIOS)
    if (s.minRatio !== undefined && rows.has(s.name)) add(`${s.name} rps / ${rows.get(s.name)!.baseline} rps`, rows.get(s.name)!.ratio, `>= ${s.minRatio}`, (v) => v >= s.minRatio!);
  return out;
}

interface Report {
  machine: { cpus: number; model: string; memGb: number; node: string; loadavg1m: { before: number; after: number } };
  pinning: { proxy: string; loadAndUpstream: string } | null;
  loadGenerator: string;
  upstream: string;
  settings: { rounds: number; durationSec: number; connections: number; moderate: { connections: number; delayMs: number } };
  rows: RowResult[];
  targets: TargetResult[];
}

const f = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits));

export function printReport(r: Report): void {
  const s = r.settings;
  const lines: string[] = [];
  lines.push("");
  lines.push(`machine: ${r.machine.cpus} cpus (${r.machine.model}), ${r.machine.memGb} GB, node ${r.machine.node}; 1-min load average ${r.machine.loadavg1m.before} before, ${r.machine.loadavg1m.after} after`);
  if (Math.max(r.machine.loadavg1m.before, r.machine.loadavg1m.after) > r.machine.cpus) lines.push("warning: the machine was busy with other work; absolute numbers are low, compare ratios and CPU s/1k");
  lines.push(`pinning: ${r.pinning ? `proxies ${r.pinning.proxy}; load generator, upstream and runner ${r.pinning.loadAndUpstream}` : "none (taskset or a second core missing)"}`);
  lines.push(`load: ${r.loadGenerator}; saturating ${s.connections} connections x ${s.durationSec}s, median of ${s.rounds} round(s); moderate ${s.moderate.connections} connections pausing ${s.moderate.delayMs} ms`);
  lines.push(`upstream: ${r.upstream}`);
  lines.push("");
  const head = ["row", "req/s", "p50 ms", "p99 ms", "ratio", "vs", "mod req/s", "mod p50", "+p50 ms", "idle RSS", "RSS", "CPU s/1k", "ready ms", "gen core", "errors"];
  const table = r.rows.map((x) =>
    x.skipped
      ? [x.name, `skipped: ${x.skipped}`]
      : [x.name, f(x.rps, 0), f(x.p50Ms), f(x.p99Ms), f(x.ratio), x.baseline ?? "-", f(x.moderateRps, 0), f(x.moderateP50Ms, 3), f(x.addedP50Ms, 3), f(x.idleRssMb, 1), f(x.rssMb, 1), f(x.cpuSecPer1k, 3), f(x.readyMs, 0), f(x.loadCoreBusy), x.errors === undefined ? "-" : String(x.errors)],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...table.filter((t) => t.length > 2).map((t) => (t[i] ?? "").length)));
  const fmt = (cells: string[]) => (cells.length === 2 ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]}` : cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  lines.push(fmt(head));
  lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const t of table) lines.push(fmt(t));
  lines.push("");
  lines.push("ratio: req/s over the baseline row's req/s (same run); +p50: moderate-load p50 minus the baseline's;");
  lines.push("RSS/CPU: the proxy processes (both for pair); gen core: busy fraction of the load core (wrk + upstream), near 1.00 = generator-bound");
  for (const x of r.rows) for (const n of x.notes ?? []) lines.push(`note: ${n}`);
  lines.push("");
  lines.push("targets:");
  for (const t of r.targets) lines.push(`  ${t.met === null ? "n/a " : t.met ? "MET " : "MISS"}  ${t.target}: ${t.value === null ? "not measured" : f(t.value)} (goal ${t.goal})`);
  lines.push("");
  process.stdout.write(lines.join("\n") + "\n");
}
