// Reference: nginx as a reverse proxy (one process, keep-alive upstream pool), adding X-Forwarded-For and a
// request id like the sidecar does, so both do comparable work per request.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { hasBinary, spawnPinned, waitFor200 } from "../process.js";
import { nginxConf } from "../upstream.js";
import type { Scenario } from "../scenario.js";

export const nginx: Scenario = {
  name: "nginx",
  description: "-> nginx reverse proxy -> upstream (reference, 1 worker)",
  unavailable: () => (hasBinary("nginx") ? undefined : "nginx not installed (apt-get install nginx)"),
  start: async (ctx) => {
    const port = await ctx.freePort();
    const dir = path.join(ctx.tmpdir, "proxy-nginx");
    await mkdir(dir, { recursive: true });
    const conf = path.join(dir, "nginx.conf");
    await writeFile(
      conf,
      nginxConf(
        dir,
        `listen 127.0.0.1:${port} reuseport;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Request-Id $request_id;
    }`,
        `upstream up { server 127.0.0.1:${ctx.upstream.port}; keepalive 128; }`,
      ),
    );
    const t0 = performance.now();
    const p = spawnPinned("nginx", hasBinary("nginx")!, ["-p", dir, "-c", conf], ctx.proxyCpus);
    const readyMs = await waitFor200(`http://127.0.0.1:${port}/`, t0, 10_000, p);
    return { url: `http://127.0.0.1:${port}/`, measured: [p], readyMs, stop: () => p.stop("SIGQUIT") };
  },
};
