// Two hops, the mesh path: outbound sidecar -> inbound sidecar -> app. Both sidecars share the proxy core.
import type { Scenario } from "../scenario.js";

export const pair: Scenario = {
  name: "pair",
  description: "-> outbound sidecar -> inbound sidecar -> upstream (both on the proxy core)",
  start: async (ctx) => {
    const [inbound, outbound] = [await ctx.freePort(), await ctx.freePort()];
    const app = `127.0.0.1:${ctx.upstream.port}`;
    const server = await ctx.startSidecar({ args: ["--service", "upstream", "--app", app, "--inbound", String(inbound)] });
    const client = await ctx.startSidecar({ args: ["--service", "client", "--app", app, "--outbound", String(outbound), "--endpoint", `upstream=127.0.0.1:${inbound}`] });
    return {
      url: `http://127.0.0.1:${outbound}/`,
      host: "upstream",
      measured: [client.measured, server.measured],
      readyMs: Math.max(client.readyMs, server.readyMs),
      stop: async () => {
        await client.stop();
        await server.stop();
      },
    };
  },
};
