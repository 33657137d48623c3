// WebSocket and other Upgrade requests: route like any request, then tunnel raw bytes both ways.
// Hop-by-hop headers are rebuilt: Connection/Upgrade must reach the upstream for the handshake to work.
import net, { type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { MeshError } from "../errors.js";
import type { Direction, Exchange } from "./chain.js";
import { appendForwarded, stripHopByHop } from "./headers.js";
import type { ListenerHooks } from "./listener.js";

export async function tunnelUpgrade(req: IncomingMessage, client: Socket, head: Buffer, direction: Direction, hooks: ListenerHooks): Promise<void> {
  client.on("error", () => client.destroy());
  const upgrade = req.headers.upgrade ?? "";
  const headers = stripHopByHop({ ...req.headers });
  const authority = req.headers.host ?? "";
  const requestId = (headers["x-request-id"] as string | undefined) ?? randomUUID();
  headers["x-request-id"] = requestId;
  appendForwarded(headers, client.remoteAddress ?? "", "http", authority);
  const ac = new AbortController();
  const ex: Exchange = {
    direction,
    method: req.method ?? "GET",
    host: authority.replace(/:\d+$/, "").toLowerCase(),
    authority,
    path: req.url ?? "/",
    headers,
    body: null,
    peer: { address: client.remoteAddress ?? "", port: client.remotePort ?? 0 },
    signal: ac.signal,
    requestId,
    start: process.hrtime.bigint(),
    notes: {},
    onEnd: () => {},
  };
  let target;
  try {
    target = await hooks.tunnel!(ex);
  } catch (err) {
    const me = err instanceof MeshError ? err : new MeshError("INTERNAL");
    const body = JSON.stringify(me.toJSON());
    client.end(`HTTP/1.1 ${me.status} Error\r\nconnection: close\r\ncontent-type: application/json\r\nx-outrigger-error: ${me.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return;
  }
  const upstream = net.connect(target.port, target.host);
  upstream.setNoDelay(true);
  upstream.once("connect", () => {
    let head1 = `${ex.method} ${ex.path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) head1 += `${k}: ${one}\r\n`;
    head1 += `connection: upgrade\r\nupgrade: ${upgrade}\r\n\r\n`;
    upstream.write(head1);
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on("error", () => {
    if (!upstream.bytesRead) {
      const me = new MeshError("UPSTREAM_CONNECT_FAILED");
      const body = JSON.stringify(me.toJSON());
      client.end(`HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-type: application/json\r\nx-outrigger-error: ${me.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    } else close();
  });
  upstream.on("close", close);
  client.on("close", close);
}
