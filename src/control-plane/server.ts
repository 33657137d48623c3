// The control plane's HTTP server: authenticates every request through the authenticator chain, checks the
// route's roles, and dispatches to the route table. The API, push and registry are routes mounted on it.
import http from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { MeshError } from "../errors.js";
import type { Address } from "../config/units.js";
import { RouteTable, sendError, type RequestContext } from "./api/routes.js";
import type { Authenticator, Principal } from "./auth/principal.js";
import type { AuditEntry, ControlPlaneContext, ControlPlaneExtension, ControlPlaneExtensionFactory } from "./extension.js";
import { EXTENSIONS } from "./extensions.js";

export interface ControlPlaneServerOptions {
  logger: Logger;
  dataDir: string;
  flags?: Record<string, unknown>;
  /** Where audit entries go (the store's append-only log). */
  audit: (entry: AuditEntry) => Promise<void>;
  /** Built-in authenticators (bearer tokens), tried after the extensions' ones. */
  authenticators?: Authenticator[];
  /** Defaults to EXTENSIONS. */
  extensions?: ControlPlaneExtensionFactory[];
  maxBodyBytes?: number;
}

export class ControlPlaneServer {
  readonly routes = new RouteTable();
  readonly context: ControlPlaneContext;
  readonly extensions: ControlPlaneExtension[];
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly authenticators: Authenticator[];

  constructor(private readonly opts: ControlPlaneServerOptions) {
    this.context = {
      logger: opts.logger,
      dataDir: opts.dataDir,
      flags: opts.flags ?? {},
      audit: (e) => opts.audit({ ...e, time: e.time ?? new Date().toISOString() }),
      authenticate: (req) => this.authenticate(req),
    };
    this.extensions = (opts.extensions ?? EXTENSIONS).map((f) => f(this.context));
    this.authenticators = [...this.extensions.flatMap((e) => e.authenticators?.() ?? []), ...(opts.authenticators ?? [])];
    this.routes.add({ method: "GET", path: "/healthz", auth: "public", action: "check health", handler: (c) => c.send(200, { status: "alive" }) });
  }

  /** Mounts extension routes (call after the core API is mounted, so clashes name the extension) and listens. */
  async listen(host: string, port: number): Promise<Address> {
    for (const e of this.extensions) e.routes?.(this.routes);
    for (const e of this.extensions) await e.start?.();
    const listener: http.RequestListener = (req, res) => void this.handle(req, res);
    let server: http.Server | undefined;
    for (const e of this.extensions) server ??= e.createServer?.(listener);
    server ??= http.createServer(listener);
    server.headersTimeout = 10_000;
    server.requestTimeout = 0; // subscriptions are long-lived streams; idle sockets are bounded by keepAliveTimeout
    server.keepAliveTimeout = 5_000;
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const a = server.address() as { address: string; port: number };
    return { host: a.address, port: a.port, key: a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` };
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s) {
      await new Promise<void>((r) => {
        s.close(() => r());
        for (const sock of this.sockets) sock.destroy();
      });
    }
    for (const e of this.extensions) await e.close?.().catch(() => {});
  }

  private async authenticate(req: http.IncomingMessage): Promise<Principal | undefined> {
    for (const a of this.authenticators) {
      const r = await a.authenticate(req);
      if (!r) continue;
      if ("reject" in r) throw new MeshError("UNAUTHENTICATED", r.reject);
      return r;
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://control-plane");
    let principal: Principal | undefined;
    try {
      const m = this.routes.match(req.method ?? "GET", url.pathname);
      if (!m) throw new MeshError("NOT_FOUND", `No control-plane endpoint ${req.method} ${url.pathname}.`);
      if ("allowed" in m) throw new MeshError("BAD_REQUEST", `${req.method} is not allowed on ${url.pathname}; use ${m.allowed.join(" or ")}.`, { status: 405, headers: { allow: m.allowed.join(", ") } });
      const { route, params } = m;
      if (route.auth !== "public") {
        principal = await this.authenticate(req);
        if (!principal) throw new MeshError("UNAUTHENTICATED", "Send `Authorization: Bearer <token>` (create one with `outrigger token create`).");
        if (!route.auth.includes(principal.role)) {
          const reason = `role ${principal.role} may not ${route.action}; it needs ${route.auth.join(" or ")}`;
          if (req.method !== "GET") await this.context.audit({ who: principal.subject, action: route.action, result: "denied", reason });
          throw new MeshError("FORBIDDEN", reason);
        }
      }
      const ctx = this.requestContext(req, res, url, params, principal);
      await route.handler(ctx);
    } catch (err) {
      if (err instanceof MeshError) return sendError(res, err);
      this.opts.logger.error({ err, method: req.method, path: url.pathname }, "control-plane handler failed");
      sendError(res, new MeshError("INTERNAL", (err as Error).message));
    }
  }

  private requestContext(req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: Record<string, string>, principal: Principal | undefined): RequestContext {
    const max = this.opts.maxBodyBytes ?? 8 * 1024 * 1024;
    let bodyP: Promise<Buffer> | undefined;
    const body = () =>
      (bodyP ??= new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let n = 0;
        req.on("data", (c: Buffer) => {
          n += c.length;
          if (n > max) {
            reject(new MeshError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${max} bytes.`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
      }));
    return {
      req,
      res,
      url,
      params,
      principal,
      body,
      async json<T>() {
        const b = await body();
        if (!b.length) return {} as T;
        try {
          return JSON.parse(b.toString("utf8")) as T;
        } catch (e) {
          throw new MeshError("BAD_REQUEST", `Body is not valid JSON: ${(e as Error).message}`);
        }
      },
      send(status, value, headers = {}) {
        const text = JSON.stringify(value);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
        res.end(text);
      },
    };
  }
}
