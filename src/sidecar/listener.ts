// One HTTP/1.1 listener (inbound or outbound): node:http in, Exchange through the current chain, Reply out.
// Owns what is per-connection: hostile-input limits, client aborts, streaming with backpressure, drain.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { MeshError } from "../errors.js";
import type { Direction, Exchange, ExchangeNotes, Next, Outcome, Reply } from "./chain.js";
import { appendForwarded, stripHopByHop } from "./headers.js";
import type { SidecarPlan } from "../config/compile.js";
import type { Address } from "../config/units.js";

export interface ListenerHooks {
  /** The chain for the current plan; read on every request so a swap is one reference change. */
  chain(): Next;
  limits(): SidecarPlan["limits"];
  isDraining(): boolean;
  /** WebSocket/Upgrade: resolve where the tunnel goes (runs the route policy only). */
  tunnel?(ex: Exchange): Promise<Address>;
  onError?(err: unknown, ex: Exchange | undefined): void;
}

/** Builds the listening server instead of plain node:http (the identity layer's mTLS listener). */
export interface ListenerServerFactory {
  createServer(handler: http.RequestListener, options: http.ServerOptions): http.Server;
}

export class Listener {
  readonly server: http.Server;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(readonly direction: Direction, private readonly hooks: ListenerHooks, tls?: ListenerServerFactory) {
    const limits = hooks.limits();
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const options: http.ServerOptions = {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      keepAliveTimeout: limits.idleTimeoutMs,
      noDelay: true,
      joinDuplicateHeaders: false,
    };
    this.server = tls ? tls.createServer(handler, options) : http.createServer(options, handler);
    this.server.maxHeadersCount = 0; // count them ourselves so an excess is a 431, not a silent truncation
    this.server.on("clientError", (err, socket) => rejectMalformed(err as NodeJS.ErrnoException, socket as Socket));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    if (hooks.tunnel) this.server.on("upgrade", (req, socket, head) => void this.upgrade(req, socket as Socket, head));
  }

  listen(addr: Address): Promise<Address> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(addr.port, addr.host, () => {
        this.server.off("error", reject);
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port, key: a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` });
      });
    });
  }

  get active(): number {
    return this.inflight;
  }

  /** Stop accepting, close idle keep-alive sockets, wait for in-flight requests up to the timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.server.close();
    this.server.closeIdleConnections();
    if (this.inflight === 0) return true;
    const idle = new Promise<boolean>((r) => this.idleWaiters.push(() => r(true)));
    const timer = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref());
    const clean = await Promise.race([idle, timer]);
    return clean;
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // A request pipelined behind one we rejected with "connection: close" is never served: the connection is over.
    if ((req.socket as PoisonedSocket)[REJECTED]) {
      req.resume();
      return;
    }
    this.inflight++;
    const limits = this.hooks.limits();
    const ac = new AbortController();
    let ended = false;
    const bytes = { in: 0, out: 0 };
    const notes: ExchangeNotes = {};
    const endHooks: ((o: Outcome) => void)[] = [];
    // Whole-request deadline (Sidecar.spec.limits.requestTimeout): before the response head it is a 504;
    // after it, the response is cut (the upstream body stream is destroyed by the same signal).
    const deadline = limits.requestTimeoutMs > 0
      ? setTimeout(() => ac.abort(new MeshError("REQUEST_TIMEOUT", `(limit ${limits.requestTimeoutMs} ms)`)), limits.requestTimeoutMs).unref()
      : undefined;
    const finish = (status: number, aborted: boolean, error?: string) => {
      if (ended) return;
      ended = true;
      if (deadline) clearTimeout(deadline);
      this.inflight--;
      if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
      if (endHooks.length) {
        const outcome: Outcome = { status, bytesIn: bytes.in, bytesOut: bytes.out, durationSeconds: Number(process.hrtime.bigint() - start) / 1e9, aborted, ...(error ? { error } : {}) };
        for (const h of endHooks) h(outcome);
      }
    };
    const start = process.hrtime.bigint();
    res.once("close", () => {
      if (!res.writableFinished) {
        ac.abort(new MeshError("BAD_REQUEST", "client closed the connection"));
        finish(res.statusCode, true, notes.errorCode);
      } else finish(res.statusCode, false, notes.errorCode);
    });
    if (this.hooks.isDraining()) res.shouldKeepAlive = false;

    // Hostile input the parser lets through: too many headers, absurd targets.
    if (req.rawHeaders.length / 2 > limits.maxHeaderCount) return this.sendError(res, new MeshError("REQUEST_HEADERS_TOO_LARGE", `More than ${limits.maxHeaderCount} header fields.`), true);
    if ((req.url?.length ?? 0) > limits.maxUriBytes) return this.sendError(res, new MeshError("URI_TOO_LONG", `Target longer than ${limits.maxUriBytes} bytes.`), true);

    let path = req.url ?? "/";
    let authority = req.headers.host ?? "";
    if (path.charCodeAt(0) !== 47 /* "/" */) {
      // absolute-form (forward-proxy mode, HTTP_PROXY) or asterisk-form
      if (path === "*" && req.method === "OPTIONS") path = "*";
      else {
        const m = /^http:\/\/([^/?#\s]+)([^#\s]*)$/i.exec(path);
        if (!m) return this.sendError(res, new MeshError("BAD_PROXY_TARGET", `Unsupported request target "${path.slice(0, 64)}".`), true);
        authority = m[1]!;
        path = m[2] || "/";
      }
    }
    const headers = stripHopByHop({ ...req.headers });
    headers.host = authority;
    let requestId = headers["x-request-id"] as string | undefined;
    if (!requestId || Array.isArray(requestId)) requestId = headers["x-request-id"] = randomUUID();
    appendForwarded(headers, req.socket.remoteAddress ?? "", "encrypted" in req.socket ? "https" : "http", authority);

    const contentLength = req.headers["content-length"];
    const chunked = req.headers["transfer-encoding"] !== undefined;
    const hasBody = chunked || (contentLength !== undefined && contentLength !== "0");
    // Count request bytes without stealing chunks from the forwarder: the framed length is exact (the parser
    // enforces it); only chunked bodies need a counting pass-through.
    let body: Readable | null = null;
    if (!hasBody) req.resume();
    else if (!chunked) {
      body = req;
      bytes.in = Number(contentLength);
    } else body = req.pipe(new Transform({ transform(c: Buffer, _e, cb) { bytes.in += c.length; cb(null, c); } }));

    const colon = authority.lastIndexOf(":");
    const host = (colon > 0 && authority.indexOf("]") < colon ? authority.slice(0, colon) : authority).toLowerCase();
    const exchange: Exchange = {
      direction: this.direction,
      method: req.method ?? "GET",
      host,
      authority,
      path,
      headers,
      body,
      peer: { address: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0, ...peerIdentity(req) },
      signal: ac.signal,
      requestId,
      start,
      notes,
      onEnd: (fn) => {
        if (endHooks.length < 16) endHooks.push(fn);
      },
    };
    let reply: Promise<Reply>;
    try {
      reply = this.hooks.chain()(exchange);
    } catch (err) {
      reply = Promise.reject(err);
    }
    reply.then(
      (r) => this.sendReply(res, r, exchange, bytes),
      (err) => {
        this.hooks.onError?.(err, exchange);
        const me = err instanceof MeshError ? err : new MeshError("INTERNAL", undefined, { cause: err });
        exchange.notes.errorCode = me.code;
        // A body the upstream never read must not be left half-consumed on a keep-alive connection.
        const dirty = hasBody && !req.complete;
        this.sendError(res, me, dirty);
      },
    );
  }

  private sendReply(res: ServerResponse, reply: Reply, ex: Exchange, bytes: { out: number }): void {
    if (res.destroyed) {
      if (reply.body instanceof Readable) reply.body.destroy();
      return;
    }
    res.statusCode = reply.status;
    for (const k in reply.headers) {
      const v = reply.headers[k];
      if (v !== undefined) res.setHeader(k, v);
    }
    if (ex.requestId && !res.hasHeader("x-request-id")) res.setHeader("x-request-id", ex.requestId);
    if (this.hooks.isDraining()) res.setHeader("connection", "close");
    const body = reply.body;
    if (body === null || typeof body === "string" || Buffer.isBuffer(body)) {
      if (body) bytes.out = Buffer.byteLength(body);
      res.end(body ?? undefined);
      return;
    }
    const trailers = reply.trailers;
    if (trailers && res.getHeader("content-length") === undefined) {
      // Upstream trailers are known only once its body ended; they can follow a chunked body only.
      body.once("end", () => {
        if (Object.keys(trailers).length) res.addTrailers(trailers as Record<string, string>);
      });
    }
    pump(body, res, bytes);
  }

  private sendError(res: ServerResponse, err: MeshError, closeConnection: boolean): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(err.toJSON());
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-outrigger-error": err.code,
      ...(err.headers ?? {}),
    };
    if (closeConnection || this.hooks.isDraining()) headers.connection = "close";
    const socket = res.socket as PoisonedSocket | null;
    if (closeConnection && socket) socket[REJECTED] = true;
    res.writeHead(err.status, headers);
    res.end(body);
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const { tunnelUpgrade } = await import("./upgrade.js");
    await tunnelUpgrade(req, socket, head, this.direction, this.hooks);
  }
}

const REJECTED = Symbol("outrigger.rejected");
type PoisonedSocket = Socket & { [REJECTED]?: true };

/**
 * Streams a reply body into the response with backpressure; counts bytes out. Hand-rolled instead of
 * stream.pipeline because pipeline allocates an AbortController per call and aborts it when done (building a
 * DOMException): about a tenth of the sidecar's CPU per request in the bench profile (docs/benchmarks.md).
 * Semantics kept: an upstream error or premature close destroys the response (the client must not mistake a
 * cut body for a complete one); a client that goes away destroys the upstream body.
 */
function pump(body: Readable, res: ServerResponse, bytes: { out: number }): void {
  let done = false;
  const onData = (c: Buffer) => {
    bytes.out += c.length;
    if (!res.write(c)) body.pause();
  };
  const onDrain = () => body.resume();
  const settle = () => {
    done = true;
    body.off("data", onData);
    body.off("end", onEnd);
    body.off("error", onBodyGone);
    body.off("close", onBodyGone);
    res.off("drain", onDrain);
    res.off("close", onResClose);
  };
  const onEnd = () => {
    settle();
    res.end();
  };
  const onBodyGone = () => {
    if (done) return;
    settle();
    res.destroy();
  };
  const onResClose = () => {
    if (done) return;
    settle();
    body.destroy();
  };
  body.on("data", onData);
  body.on("end", onEnd);
  body.on("error", onBodyGone);
  body.on("close", onBodyGone);
  res.on("drain", onDrain);
  res.on("close", onResClose);
}

function peerIdentity(req: IncomingMessage): { identity?: string } {
  const id = (req.socket as Socket & { outriggerIdentity?: string }).outriggerIdentity;
  return id ? { identity: id } : {};
}

/** The parser refused the request (smuggling attempts, bad framing, oversized headers): answer and close. */
function rejectMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === "ECONNRESET")) {
    socket.destroy();
    return;
  }
  const overflow = err.code === "HPE_HEADER_OVERFLOW";
  // The parser only says "headers overflowed"; when the bytes it choked on are still the request line
  // (method, space, then no line end), the target is what is too long: 414, not 431.
  const raw = (err as { rawPacket?: Buffer }).rawPacket;
  const uriTooLong = overflow && raw !== undefined && /^[A-Z]+ [^\r\n]*$/.test(raw.toString("latin1", 0, Math.min(raw.length, 65536)));
  const tooLarge = overflow && !uriTooLong;
  const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
  const me = uriTooLong
    ? new MeshError("URI_TOO_LONG")
    : tooLarge
    ? new MeshError("REQUEST_HEADERS_TOO_LARGE")
    : timeout
      ? new MeshError("BAD_REQUEST", "The request was not received in time.", { status: 408 })
      : new MeshError("BAD_REQUEST", `(${err.code ?? "parse error"})`);
  const body = JSON.stringify(me.toJSON());
  const reason = uriTooLong ? "URI Too Long" : tooLarge ? "Request Header Fields Too Large" : timeout ? "Request Timeout" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${me.status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\nx-outrigger-error: ${me.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroySoon?.();
}
