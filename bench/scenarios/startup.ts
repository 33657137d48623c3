// Startup: spawn -> admin /readyz 200, and idle RSS right after, over a few fresh sidecars (median reported).
import type { Scenario } from "../scenario.js";
import { sample } from "../process.js";

export const startup: Scenario = {
  name: "startup",
  description: "sidecar spawn -> /readyz 200 (median of fresh starts), idle RSS",
  baseline: "",
  measure: async (ctx) => {
    const runs = ctx.quick ? 3 : 7;
    const ready: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [inbound, outbound] = [await ctx.freePort(), await ctx.freePort()];
      const up = `127.0.0.1:${ctx.upstream.port}`;
      const s = await ctx.startSidecar({ args: ["--service", "bench", "--app", up, "--inbound", String(inbound), "--outbound", String(outbound), "--endpoint", `upstream=${up}`] });
      ready.push(s.readyMs);
      await new Promise((r) => setTimeout(r, 300)); // let startup garbage settle before reading idle RSS
      rss.push((await sample(s.measured.pid)).rssBytes / 2 ** 20);
      await s.stop();
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return { readyMs: med(ready), idleRssMb: med(rss), notes: [`startup: ready ms over ${runs} starts: ${ready.map((x) => x.toFixed(0)).join(", ")}`] };
  },
};
