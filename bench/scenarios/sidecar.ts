// One hop: an outbound sidecar in Host-header mode (the app calls 127.0.0.1:outbound with Host: upstream).
import type { Scenario } from "../scenario.js";

export const sidecar: Scenario = {
  name: "sidecar",
  description: "-> outbound sidecar -> upstream (one hop, Host-header mode)",
  start: async (ctx) => {
    const port = await ctx.freePort();
    const up = `127.0.0.1:${ctx.upstream.port}`;
    const s = await ctx.startSidecar({ args: ["--service", "bench", "--app", up, "--outbound", String(port), "--endpoint", `upstream=${up}`] });
    return { url: `http://127.0.0.1:${port}/`, host: "upstream", measured: [s.measured], readyMs: s.readyMs, stop: s.stop };
  },
};
