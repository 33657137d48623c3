// The one small upstream every row reaches: nginx returning a fixed body (cheap, so it is never the limit),
// or a tiny Node server with the same body when nginx is not installed. Pinned with the load generator.
import { writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hasBinary, spawnPinned, waitFor200, type Spawned } from "./process.js";

/** 128 bytes: a small JSON-ish API response. */
export const BODY = JSON.stringify({ service: "upstream", ok: true, pad: "x".repeat(128 - 42) }) + "\n";

export interface Upstream {
  host: string;
  port: number;
  kind: string;
  proc: Spawned;
  stop(): Promise<void>;
}

export async function startUpstream(tmpdir: string, port: number, cpus: string | undefined, prefer?: string): Promise<Upstream> {
  const nginx = prefer === "node" ? undefined : hasBinary("nginx");
  let proc: Spawned;
  let kind: string;
  if (nginx) {
    const dir = path.join(tmpdir, "upstream-nginx");
    await mkdir(dir, { recursive: true });
    const conf = path.join(dir, "nginx.conf");
    await writeFile(conf, nginxConf(dir, `listen 127.0.0.1:${port} reuseport; location / { default_type application/json; return 200 '${BODY.trimEnd()}\n'; }`));
    proc = spawnPinned("upstream-nginx", nginx, ["-p", dir, "-c", conf], cpus);
    kind = "nginx (1 process, fixed 128-byte body)";
  } else {
    const script = fileURLToPath(new URL("./peers/node-upstream.js", import.meta.url));
    proc = spawnPinned("upstream-node", process.execPath, [script, String(port)], cpus);
    kind = "node:http (fixed 128-byte body)";
  }
  await waitFor200(`http://127.0.0.1:${port}/`, performance.now(), 10_000, proc);
  return { host: "127.0.0.1", port, kind, proc, stop: () => proc.stop() };
}

/** An nginx config for one non-daemon, single-process server with every path inside `dir`. */
export function nginxConf(dir: string, server: string, http = ""): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  ${http}
  server { ${server} }
}
`;
}
