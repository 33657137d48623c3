// Baseline: the load generator straight to the upstream, no proxy.
import type { Scenario } from "../scenario.js";

export const direct: Scenario = {
  name: "direct",
  description: "load generator -> upstream (no proxy)",
  start: async (ctx) => ({ url: `http://127.0.0.1:${ctx.upstream.port}/`, measured: [], stop: async () => {} }),
};
