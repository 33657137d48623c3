// GET/POST /logging on the admin port: read or change the log level and access-log settings at runtime.
// A change lasts until the next config reload that changes the same settings (config stays the source of truth).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AccessLogSettings } from "./access-log.js";
import { mutationRefusal } from "./admin-guard.js";

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const MAX_BODY = 16 * 1024;

export interface LoggingState {
  logger: Logger;
  access: AccessLogSettings;
}

const view = (s: LoggingState) => {
  const { redact, ...access } = s.access.current;
  return { level: s.logger.level, access: { ...access, redactHeaders: [...redact] } };
};

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

/** Parses and checks a POST body; returns a reason string when it is not acceptable. */
export function parseLoggingChange(body: unknown): { level?: string; access?: { enabled?: boolean; sampleRatio?: number; includeQuery?: boolean } } | string {
  if (!body || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object like {\"level\":\"debug\",\"access\":{\"sampleRatio\":0.1}}";
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== "level" && k !== "access") return `unknown field "${k}" (level, access)`;
  if (b.level !== undefined && (typeof b.level !== "string" || !LEVELS.has(b.level))) return `level must be one of ${[...LEVELS].join(", ")}`;
  if (b.access !== undefined) {
    if (!b.access || typeof b.access !== "object") return "access must be an object";
    const a = b.access as Record<string, unknown>;
    for (const k of Object.keys(a)) if (!["enabled", "sampleRatio", "includeQuery"].includes(k)) return `unknown field "access.${k}" (enabled, sampleRatio, includeQuery)`;
    if (a.enabled !== undefined && typeof a.enabled !== "boolean") return "access.enabled must be true or false";
    if (a.includeQuery !== undefined && typeof a.includeQuery !== "boolean") return "access.includeQuery must be true or false";
    if (a.sampleRatio !== undefined && (typeof a.sampleRatio !== "number" || !(a.sampleRatio >= 0 && a.sampleRatio <= 1))) return "access.sampleRatio must be a number from 0 to 1";
  }
  return b as ReturnType<typeof parseLoggingChange> & object;
}

export async function loggingEndpoint(req: IncomingMessage, res: ServerResponse, state: LoggingState): Promise<void> {
  if (req.method === "GET") return send(res, 200, view(state));
  if (req.method !== "POST") return send(res, 405, { error: { code: "BAD_REQUEST", message: "Use GET or POST /logging." } });
  const refused = mutationRefusal(req);
  if (refused) return send(res, refused.status, { error: { code: refused.code, message: refused.message } });
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) return send(res, 413, { error: { code: "PAYLOAD_TOO_LARGE", message: `The body exceeds ${MAX_BODY} bytes.` } });
    chunks.push(c);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    return send(res, 400, { error: { code: "BAD_REQUEST", message: `invalid JSON: ${(err as Error).message}` } });
  }
  const change = parseLoggingChange(parsed);
  if (typeof change === "string") return send(res, 400, { error: { code: "BAD_REQUEST", message: change } });
  if (change.level) state.logger.level = change.level;
  if (change.access) state.access.current = { ...state.access.current, ...change.access };
  state.logger.warn({ event: "logging.changed", change, by: req.socket.remoteAddress }, "logging settings changed at runtime");
  send(res, 200, view(state));
}
