// The control plane's HTTP route table: a small, pluggable list of (method, path pattern, roles, handler).
// The core API, the identity issuer (certificates) and the Kubernetes admission webhook all mount here.
import type { IncomingMessage, ServerResponse } from "node:http";
import { MeshError } from "../../errors.js";
import type { Principal, Role } from "../auth/principal.js";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters, e.g. { kind, name } for /v1/resources/:kind/:name. */
  params: Record<string, string>;
  /** Who is calling; undefined only on routes declared `auth: "public"`. */
  principal: Principal | undefined;
  /** Reads and parses the JSON body (bounded by maxBodyBytes); throws BAD_REQUEST/PAYLOAD_TOO_LARGE. */
  json<T = unknown>(): Promise<T>;
  /** Reads the raw body (bounded). */
  body(): Promise<Buffer>;
  /** Sends a JSON response. */
  send(status: number, body: unknown, headers?: Record<string, string>): void;
}

export type RouteHandler = (ctx: RequestContext) => void | Promise<void>;

export interface RouteSpec {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** Literal segments and `:param` segments, e.g. /v1/resources/:kind/:name. A trailing `*` matches the rest. */
  path: string;
  /** Roles allowed to call it, or "public" (no token needed, e.g. /healthz or a webhook with its own auth). */
  auth: readonly Role[] | "public";
  /** What the route does, for the 403 reason ("role viewer may not apply config"). */
  action: string;
  handler: RouteHandler;
}

interface CompiledRoute extends RouteSpec {
  segments: string[];
  wildcard: boolean;
}

export class RouteTable {
  private readonly routes: CompiledRoute[] = [];

  /** Mounts a route. Throws when the same method+path is already taken, so two owners never shadow each other. */
  add(spec: RouteSpec): this {
    const segments = spec.path.split("/").filter(Boolean);
    const wildcard = segments[segments.length - 1] === "*";
    if (wildcard) segments.pop();
    if (this.routes.some((r) => r.method === spec.method && r.path === spec.path)) throw new Error(`route ${spec.method} ${spec.path} is already mounted`);
    this.routes.push({ ...spec, segments, wildcard });
    return this;
  }

  list(): { method: string; path: string; auth: readonly Role[] | "public" }[] {
    return this.routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth }));
  }

  /** Finds the route for a request; a path that exists with another method yields 405 information. */
  match(method: string, pathname: string): { route: RouteSpec; params: Record<string, string> } | { allowed: string[] } | undefined {
    const parts = pathname.split("/").filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchSegments(r, parts);
      if (!params) continue;
      if (r.method === method) return { route: r, params };
      allowed.push(r.method);
    }
    return allowed.length ? { allowed } : undefined;
  }
}

function matchSegments(r: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (r.wildcard ? parts.length < r.segments.length : parts.length !== r.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const s = r.segments[i]!;
    if (s.startsWith(":")) params[s.slice(1)] = parts[i]!;
    else if (s !== parts[i]) return undefined;
  }
  if (r.wildcard) params["*"] = parts.slice(r.segments.length).join("/");
  return params;
}

/** Writes a MeshError as the mesh's usual error response. */
export function sendError(res: ServerResponse, err: MeshError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.toJSON());
  res.writeHead(err.status, { "content-type": "application/json", "x-outrigger-error": err.code, "content-length": Buffer.byteLength(body), ...err.headers });
  res.end(body);
}
