// Issue 4's row: full telemetry (RED metrics, 100% of traces exported over OTLP to a local receiver, access
// logs) against the same sidecar with every signal off, in the same run. Target: on >= 0.85x off.
import { fileURLToPath } from "node:url";
import { spawnPinned, waitFor200 } from "../process.js";
import type { BenchContext, Scenario, Target } from "../scenario.js";

const policy = (spec: string) => `apiVersion: outrigger.dev/v1alpha1
kind: TelemetryPolicy
metadata: { name: bench }
spec:
${spec}
`;

const OFF = policy(`  metrics: { enabled: false }
  tracing: { enabled: false }
  logs: { access: { enabled: false } }`);

const FULL = (endpoint: string) =>
  policy(`  metrics: { enabled: true }
  tracing: { enabled: true, sampler: { type: always } }
  export: { endpoint: "${endpoint}", compression: gzip }
  logs: { access: { enabled: true, sampleRatio: 1 } }
  budget: { spansPerSecond: 1000000, logLinesPerSecond: 1000000, exportBytesPerSecond: 1000000000 }`);

async function oneHop(ctx: BenchContext, config: string, extra: Target["measured"] = []): Promise<Target> {
  const port = await ctx.freePort();
  const up = `127.0.0.1:${ctx.upstream.port}`;
  const s = await ctx.startSidecar({ config, args: ["--service", "bench", "--app", up, "--outbound", String(port), "--endpoint", `upstream=${up}`] });
  return { url: `http://127.0.0.1:${port}/`, host: "upstream", measured: [s.measured, ...extra], readyMs: s.readyMs, stop: s.stop };
}

export const telemetryOff: Scenario = {
  name: "telemetry-off",
  description: "one-hop sidecar, TelemetryPolicy: metrics, tracing and access logs off",
  start: (ctx) => oneHop(ctx, OFF),
};

export const telemetryFull: Scenario = {
  name: "telemetry-full",
  description: "one-hop sidecar, metrics + 100% traces to a local OTLP receiver + access logs",
  baseline: "telemetry-off",
  minRatio: 0.85,
  start: async (ctx) => {
    // The receiver shares the load core with wrk and the upstream: it is part of the environment, not the proxy.
    const sinkPort = await ctx.freePort();
    const script = fileURLToPath(new URL("../peers/otlp-sink.js", import.meta.url));
    const sink = spawnPinned("otlp-sink", process.execPath, [script, String(sinkPort)], ctx.loadCpus);
    await waitFor200(`http://127.0.0.1:${sinkPort}/stats`, performance.now(), 10_000, sink);
    const t = await oneHop(ctx, FULL(`http://127.0.0.1:${sinkPort}`));
    return {
      ...t,
      notes: [`telemetry-full: access logs go to a file in the run's temp dir; OTLP receiver on :${sinkPort} (stats at /stats)`],
      stop: async () => {
        const stats = await fetch(`http://127.0.0.1:${sinkPort}/stats`).then((r) => r.json(), () => undefined);
        if (stats) process.stderr.write(`otlp-sink received ${JSON.stringify(stats)}\n`);
        await t.stop();
        await sink.stop();
      },
    };
  },
};
