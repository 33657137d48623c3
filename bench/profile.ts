// Where the time goes: sums self time per function over the .cpuprofile files `--profile` collected.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export async function summarizeProfiles(dir: string, top: number): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const prof = JSON.parse(await readFile(path.join(dir, file), "utf8")) as { nodes: CpuNode[] };
    for (const n of prof.nodes) {
      const hits = n.hitCount ?? 0;
      if (!hits || n.callFrame.functionName === "(idle)") continue; // share of busy time, not of wall time
      total += hits;
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
      const key = `${functionName || "(anonymous)"} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + hits);
      const area = area_(url, functionName);
      byFile.set(area, (byFile.get(area) ?? 0) + hits);
    }
  }
  if (!total) return "profile: no samples\n";
  const pct = (h: number) => `${((100 * h) / total).toFixed(1).padStart(5)}%`;
  const lines = [`profile: ${files.length} file(s) in ${dir}; share of busy samples by area:`];
  for (const [k, h] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${pct(h)}  ${k}`);
  lines.push(`top ${top} functions by self time:`);
  for (const [k, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(h)}  ${k}`);
  return lines.join("\n") + "\n";
}

function shortUrl(url: string): string {
  const i = url.indexOf("/node_modules/");
  if (i >= 0) return url.slice(i + 1);
  const d = url.indexOf("/dist/");
  return d >= 0 ? url.slice(d + 1) : url.replace(/^file:\/\//, "");
}

/** Coarse buckets: our code by directory, each dependency, node internals, GC/idle/native. */
function area_(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const d = /\/dist\/(.*)\/[^/]+$/.exec(url);
  if (d) return `outrigger ${d[1]}`;
  if (url.startsWith("node:")) return `node ${url.slice(5).split("/")[0]}`;
  return url;
}
