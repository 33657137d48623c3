// Guard for mutating admin endpoints (POST /logging): loopback callers only, a JSON content type (a browser
// cannot send one cross-origin without a preflight, so a web page cannot change the sidecar), and the admin
// bearer token when OUTRIGGER_ADMIN_TOKEN is set.
import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";

export function mutationRefusal(req: IncomingMessage, token = process.env.OUTRIGGER_ADMIN_TOKEN): { status: number; code: string; message: string } | undefined {
  const addr = req.socket.remoteAddress ?? "";
  if (!(addr.startsWith("127.") || addr === "::1" || addr.startsWith("::ffff:127."))) return { status: 403, code: "FORBIDDEN", message: "Mutating admin endpoints accept loopback callers only." };
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return { status: 415, code: "BAD_REQUEST", message: "Send the body as application/json." };
  if (token) {
    const got = Buffer.from(/^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "");
    const want = Buffer.from(token);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { status: 401, code: "UNAUTHENTICATED", message: "This admin endpoint needs Authorization: Bearer <OUTRIGGER_ADMIN_TOKEN>." };
  }
  return undefined;
}
