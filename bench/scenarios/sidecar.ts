// One hop: an outbound sidecar in Host-header mode (the app calls 127.0.0.1:outbound with Host: upstream).
import type { Scenario } from "../scenario.js";

export const sidecar: Scenario = oneHop("sidecar", "-> outbound sidecar -> upstream (one hop, Host-header mode)");

/** The same hop run from another build (`npm run bench -- --ref OTHER/dist/src/cli/main.js`): an A/B in one run. */
export const sidecarRef: Scenario = {
  ...oneHop("sidecar-ref", "the sidecar row, from the --ref build", true),
  optional: true,
  unavailable: () => (process.argv.some((a) => a === "--ref" || a.startsWith("--ref=")) ? undefined : "no --ref build given"),
};

function oneHop(name: string, description: string, ref = false): Scenario {
  return {
    name,
    description,
    start: async (ctx) => {
      const port = await ctx.freePort();
      const up = `127.0.0.1:${ctx.upstream.port}`;
      const args = ["--service", "bench", "--app", up, "--outbound", String(port), "--endpoint", `upstream=${up}`];
      const s = await ctx.startSidecar({ ...(ref && ctx.refCli ? { cli: ctx.refCli } : {}), args });
      return { url: `http://127.0.0.1:${port}/`, host: "upstream", measured: [s.measured], readyMs: s.readyMs, stop: s.stop };
    },
  };
}
