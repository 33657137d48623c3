// Small real upstreams on loopback: an echo server that reports what it received.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Echo {
  server: http.Server;
  port: number;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

export async function startEcho(opts: { name?: string; handler?: http.RequestListener; keepAliveTimeout?: number } = {}): Promise<Echo> {
  const requests: Echo["requests"] = [];
  const server = http.createServer(
    opts.handler ??
      ((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString();
          requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
          const out = JSON.stringify({ name: opts.name ?? "echo", method: req.method, url: req.url, headers: req.headers, body });
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
          res.end(out);
        });
      }),
  );
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * A TCP port that never completes new connections: a listener (python3, backlog 0) that never accepts, with its
 * accept queue already full, so further SYNs are dropped — the way to provoke a connect timeout on loopback.
 */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const net = await import("node:net");
  const py = spawn("python3", ["-c", "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    py.once("error", reject);
    py.once("exit", (c) => reject(new Error(`blackhole exited ${c}`)));
  });
  // Fill the accept queue; these connections complete in the kernel and just sit there.
  const fillers = [0, 1].map(() => net.connect(port, "127.0.0.1").on("error", () => {}));
  return {
    port,
    close: async () => {
      for (const f of fillers) f.destroy();
      py.stdin!.end();
      if (py.exitCode === null) py.kill("SIGKILL");
    },
  };
}
