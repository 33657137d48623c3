// Issue 5's row: a sidecar with 100 route rules for the host (the request matches the last, catch-all rule)
// plus a local token-bucket rate limit high enough never to reject, against the plain sidecar. Target >= 0.9x.
import type { Scenario } from "../scenario.js";

const routes = () => {
  const rules = Array.from({ length: 99 }, (_, i) => `    - matches: [{ path: { type: PathPrefix, value: /api/v${i}/items } }]\n      backendRefs: [{ name: upstream }]`);
  rules.push(`    - matches: [{ path: { type: PathPrefix, value: / } }]\n      backendRefs: [{ name: upstream }]`);
  return `apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: bench }
spec:
  hosts: [upstream]
  rules:
${rules.join("\n")}
---
apiVersion: outrigger.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: bench }
spec:
  direction: outbound
  algorithm: TokenBucket
  limit: { requests: 100000000, per: 1s }
  key: [{ type: ClientIP }]
`;
};

export const routesAndLimit: Scenario = {
  name: "routes-100+limit",
  description: "one-hop sidecar with 100 route rules (last one matches) and a local token-bucket rate limit",
  baseline: "sidecar",
  minRatio: 0.9,
  start: async (ctx) => {
    const port = await ctx.freePort();
    const up = `127.0.0.1:${ctx.upstream.port}`;
    const s = await ctx.startSidecar({ config: routes(), args: ["--service", "bench", "--app", up, "--outbound", String(port), "--endpoint", `upstream=${up}`] });
    return { url: `http://127.0.0.1:${port}/`, host: "upstream", measured: [s.measured], readyMs: s.readyMs, stop: s.stop };
  },
};
