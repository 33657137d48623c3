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
