// Load generators: wrk (C, one thread, pinned beside the upstream) when installed, autocannon as the fallback.
// Two shapes: saturating (closed loop, many connections) and paced (few connections, a delay between requests).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { hasBinary, sample, spawnPinned } from "./process.js";

export interface LoadSpec {
  url: string;
  host?: string;
  connections: number;
  durationSec: number;
  /** Paced mode: each connection waits this long between requests (wrk's delay() hook). */
  delayMs?: number;
}

export interface LoadResult {
  requests: number;
  durationSec: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU seconds the generator itself used. */
  generatorCpuSeconds: number;
}

export interface LoadGenerator {
  name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

// wrk reports through a Lua done() hook as one JSON line (latency in microseconds).
const WRK_SCRIPT = `
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pace > 0 then delay = function() return pace end end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

export async function createLoadGenerator(tmpdir: string, cpus: string | undefined, prefer?: string): Promise<LoadGenerator> {
  const wrk = prefer === "autocannon" ? undefined : hasBinary("wrk");
  if (wrk) {
    const script = path.join(tmpdir, "report.lua");
    await writeFile(script, WRK_SCRIPT);
    return { name: `wrk (${wrk}, 1 thread)`, run: (spec) => runWrk(wrk, script, cpus, spec) };
  }
  return { name: "autocannon (in-process fallback: wrk not installed)", run: runAutocannon };
}

async function runWrk(wrk: string, script: string, cpus: string | undefined, spec: LoadSpec): Promise<LoadResult> {
  const args = ["-t1", `-c${spec.connections}`, `-d${spec.durationSec}s`, "--timeout", "5s", "-s", script];
  if (spec.host) args.push("-H", `Host: ${spec.host}`);
  args.push(spec.url);
  const p = spawnPinned("wrk", wrk, args, cpus, { BENCH_DELAY_MS: String(spec.delayMs ?? 0) });
  let cpu = 0;
  // Sample CPU just before exit: poll /proc while it runs (the last sample before exit is within 200 ms).
  const poll = setInterval(() => {
    sample(p.pid).then((s) => (cpu = s.cpuSeconds), () => {});
  }, 200);
  const code = await p.exited;
  clearInterval(poll);
  const m = /WRK_JSON (\{.*\})/.exec(p.output());
  if (code !== 0 || !m) throw new Error(`wrk failed (${code}): ${p.output().slice(-1000)}`);
  const r = JSON.parse(m[1]!) as { requests: number; durationUs: number; errors: number; p50Us: number; p99Us: number };
  const durationSec = r.durationUs / 1e6;
  return { requests: r.requests, durationSec, rps: r.requests / durationSec, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, errors: r.errors, generatorCpuSeconds: cpu };
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const { default: autocannon } = await import("autocannon");
  const cpu0 = process.cpuUsage();
  const overallRate = spec.delayMs ? Math.round((spec.connections * 1000) / spec.delayMs) : undefined;
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSec,
    headers: spec.host ? { host: spec.host } : {},
    ...(overallRate ? { overallRate } : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  const durationSec = r.duration;
  return {
    requests: r.requests.total,
    durationSec,
    rps: r.requests.total / durationSec,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
