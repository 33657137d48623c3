// The admin port's guard: bound to loopback, it is as trusted as the pod; exposed beyond it, its mutating
// endpoints (POST /drain, /quitquitquit, log level) need the bearer token from adminTokenFile, and without one
// configured they are refused. Reads (GET /healthz, /readyz, /metrics, /config) stay open for probes and scrapes.
import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MeshError } from "../errors.js";
import type { SecretFile } from "./secrets.js";

export const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host);

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Returns true when it answered (refused) the request; false lets the admin server handle it. */
export function guardAdmin(req: IncomingMessage, res: ServerResponse, adminHost: string | undefined, token: SecretFile | undefined): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  if (adminHost === undefined || isLoopback(adminHost)) return false;
  let err: MeshError | undefined;
  if (!token) err = new MeshError("FORBIDDEN", "The admin port is exposed beyond loopback and no adminTokenFile is configured: mutating endpoints are disabled.");
  else {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!m) err = new MeshError("UNAUTHENTICATED");
    else if (!timingSafeEqual(digest(m[1]!), digest(token.get()))) err = new MeshError("UNAUTHENTICATED", "The admin token is not valid.");
  }
  if (!err) return false;
  const body = JSON.stringify(err.toJSON());
  res.writeHead(err.status, { "content-type": "application/json", "x-outrigger-error": err.code, ...(err.status === 401 ? { "www-authenticate": 'Bearer realm="outrigger-admin"' } : {}) });
  res.end(body);
  return true;
}
