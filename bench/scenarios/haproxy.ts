// Reference: haproxy as a reverse proxy (one thread, connection reuse), with forwardfor and a request id.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { hasBinary, spawnPinned, waitFor200 } from "../process.js";
import type { Scenario } from "../scenario.js";

export const haproxy: Scenario = {
  name: "haproxy",
  description: "-> haproxy reverse proxy -> upstream (reference, 1 thread)",
  unavailable: () => (hasBinary("haproxy") ? undefined : "haproxy not installed (apt-get install haproxy)"),
  start: async (ctx) => {
    const port = await ctx.freePort();
    const conf = path.join(ctx.tmpdir, "haproxy.cfg");
    await writeFile(
      conf,
      `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  option forwardfor
  http-request set-header X-Request-Id %[uuid()]
  default_backend be
backend be
  server up 127.0.0.1:${ctx.upstream.port}
`,
    );
    const t0 = performance.now();
    const p = spawnPinned("haproxy", hasBinary("haproxy")!, ["-db", "-f", conf], ctx.proxyCpus);
    const readyMs = await waitFor200(`http://127.0.0.1:${port}/`, t0, 10_000, p);
    return { url: `http://127.0.0.1:${port}/`, measured: [p], readyMs, stop: () => p.stop() };
  },
};
