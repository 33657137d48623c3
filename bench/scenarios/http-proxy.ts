// The Node peer: the `http-proxy` package (keep-alive agent, xfwd), one process on the proxy core.
import { fileURLToPath } from "node:url";
import { spawnPinned, waitFor200 } from "../process.js";
import type { Scenario } from "../scenario.js";

export const httpProxy: Scenario = {
  name: "http-proxy",
  description: "-> node http-proxy package -> upstream (the Node peer)",
  start: async (ctx) => {
    const port = await ctx.freePort();
    const script = fileURLToPath(new URL("../peers/http-proxy-server.js", import.meta.url));
    const t0 = performance.now();
    const p = spawnPinned("http-proxy", process.execPath, [script, String(port), `http://127.0.0.1:${ctx.upstream.port}`], ctx.proxyCpus);
    const readyMs = await waitFor200(`http://127.0.0.1:${port}/`, t0, 10_000, p);
    return { url: `http://127.0.0.1:${port}/`, measured: [p], readyMs, stop: () => p.stop() };
  },
};
