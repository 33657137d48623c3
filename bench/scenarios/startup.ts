// Startup: spawn -> admin /readyz 200 and idle RSS, over a few fresh sidecars (median reported), each next to
// a bare Node HTTP server started the same way, so the cost of Node itself is visible on a busy machine.
import { fileURLToPath } from "node:url";
import type { Scenario } from "../scenario.js";
import { sample, spawnPinned, waitFor200 } from "../process.js";

export const startup: Scenario = {
  name: "startup",
  description: "sidecar spawn -> /readyz 200 (median of fresh starts), idle RSS; vs bare node:http",
  baseline: "",
  measure: async (ctx) => {
    const runs = ctx.quick ? 3 : 7;
    const ready: number[] = [];
    const rss: number[] = [];
    const bare: number[] = [];
    const bareRss: number[] = [];
    const script = fileURLToPath(new URL("../peers/node-upstream.js", import.meta.url));
    for (let i = 0; i < runs; i++) {
      const [inbound, outbound, barePort] = [await ctx.freePort(), await ctx.freePort(), await ctx.freePort()];
      const up = `127.0.0.1:${ctx.upstream.port}`;
      const s = await ctx.startSidecar({ args: ["--service", "bench", "--app", up, "--inbound", String(inbound), "--outbound", String(outbound), "--endpoint", `upstream=${up}`] });
      ready.push(s.readyMs);
      await new Promise((r) => setTimeout(r, 300)); // let startup garbage settle before reading idle RSS
      rss.push((await sample(s.measured.pid)).rssBytes / 2 ** 20);
      await s.stop();
      const t0 = performance.now();
      const b = spawnPinned("bare-node", process.execPath, [script, String(barePort)], ctx.proxyCpus);
      bare.push(await waitFor200(`http://127.0.0.1:${barePort}/`, t0, 10_000, b));
      await new Promise((r) => setTimeout(r, 300));
      bareRss.push((await sample(b.pid)).rssBytes / 2 ** 20);
      await b.stop();
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return {
      readyMs: med(ready),
      idleRssMb: med(rss),
      notes: [
        `startup: sidecar ready ms over ${runs} starts: ${ready.map((x) => x.toFixed(0)).join(", ")} (idle RSS median ${med(rss).toFixed(1)} MB)`,
        `startup: bare node:http server, same spawn and poll: ready median ${med(bare).toFixed(0)} ms, idle RSS median ${med(bareRss).toFixed(1)} MB`,
      ],
    };
  },
};
