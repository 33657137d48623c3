// The app-facing envelope listener: POST /v1/envelope on a loopback port (Sidecar.spec.envelope / --envelope).
// Validates each envelope against the one schema (src/telemetry/envelope-schema.ts) and dispatches it by kind to
// a handler. Telemetry registers event/metric/span/log per sidecar; other modules register further kinds (the
// traffic feature's "control") with registerEnvelopeHandler(). A batch is validated whole before anything runs.
import http from "node:http";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { FormatRegistry } from "@sinclair/typebox";
import type { Logger } from "pino";
import type { Plan } from "../config/compile.js";
import type { Address } from "../config/units.js";
import { Envelope, ENVELOPE_KINDS, envelopeJsonSchema, MAX_BATCH } from "../telemetry/envelope-schema.js";

if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)));

export interface EnvelopeContext {
  plan(): Plan;
  logger: Logger;
}
/** Handles one valid envelope; what it returns is echoed in the response's results (control queries answer here). */
export type EnvelopeHandler = (env: Envelope, ctx: EnvelopeContext) => unknown;

const GLOBAL_HANDLERS = new Map<string, EnvelopeHandler>();

/** For modules outside telemetry (e.g. traffic's `control`): every envelope listener dispatches this kind to `handler`. */
export function registerEnvelopeHandler(kind: (typeof ENVELOPE_KINDS)[number], handler: EnvelopeHandler): void {
  GLOBAL_HANDLERS.set(kind, handler);
}

const check = TypeCompiler.Compile(Envelope);
const MAX_BODY = 1024 * 1024;

/** Why an envelope is invalid (a sentence naming the field), or undefined when it is valid. */
export function envelopeError(value: unknown): string | undefined {
  if (check.Check(value)) return undefined;
  if (!value || typeof value !== "object" || Array.isArray(value)) return "an envelope must be a JSON object";
  const v = value as Record<string, unknown>;
  if (v.v !== 1) return `unsupported envelope version v=${JSON.stringify(v.v)}: this sidecar speaks v=1`;
  if (!ENVELOPE_KINDS.includes(v.kind as never)) return `unknown kind ${JSON.stringify(v.kind)} (expected one of ${ENVELOPE_KINDS.join(", ")})`;
  for (const k of Object.keys(v)) if (!Object.hasOwn(Envelope.properties, k)) return `unknown field "${k}" (attributes may carry any key; top-level fields are fixed)`;
  const first = check.Errors(value).First();
  return first ? `${first.path || "/"}: ${first.message}` : "invalid envelope";
}

export class EnvelopeServer {
  private readonly server: http.Server;
  private readonly handlers = new Map<string, EnvelopeHandler>();

  constructor(private readonly ctx: EnvelopeContext) {
    this.server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
  }

  /** Handlers owned by one sidecar (telemetry's), taking precedence over globally registered ones. */
  on(kind: string, handler: EnvelopeHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  listen(addr: Address): Promise<Address> {
    const loopback = addr.host.startsWith("127.") || addr.host === "::1";
    if (!loopback) return Promise.reject(new Error(`the envelope listener must be on loopback (got ${addr.key}): it is for the local app only`));
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(addr.port, addr.host, () => {
        this.server.off("error", reject);
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port, key: a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = (status: number, message: string, extra: Record<string, unknown> = {}) => send(status, { error: { code: status === 413 ? "PAYLOAD_TOO_LARGE" : status === 404 ? "NOT_FOUND" : "BAD_REQUEST", message, ...extra } });
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/v1/envelope/schema") return send(200, envelopeJsonSchema());
    if (path !== "/v1/envelope") return fail(404, `No endpoint ${req.method} ${path}. POST /v1/envelope, GET /v1/envelope/schema.`);
    if (req.method !== "POST") return fail(405, "Use POST /v1/envelope.");
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return fail(415, "Send the envelope as Content-Type: application/json.");
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > MAX_BODY) return fail(413, `The body exceeds ${MAX_BODY} bytes; send smaller batches.`);
        chunks.push(c);
      }
    } catch {
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      return fail(400, `invalid JSON: ${(err as Error).message}`);
    }
    const batch = Array.isArray(body);
    const items = batch ? (body as unknown[]) : [body];
    if (items.length === 0 || items.length > MAX_BATCH) return fail(400, `a batch holds 1 to ${MAX_BATCH} envelopes (got ${items.length})`);
    for (let i = 0; i < items.length; i++) {
      const why = envelopeError(items[i]);
      if (why) return fail(400, batch ? `envelope [${i}]: ${why}` : why, batch ? { index: i } : {});
      const kind = (items[i] as Envelope).kind;
      if (!this.handlers.has(kind) && !GLOBAL_HANDLERS.has(kind)) return fail(400, `${batch ? `envelope [${i}]: ` : ""}kind "${kind}" is not served by this sidecar`, batch ? { index: i } : {});
    }
    const results: unknown[] = [];
    for (const env of items as Envelope[]) {
      const h = this.handlers.get(env.kind) ?? GLOBAL_HANDLERS.get(env.kind)!;
      try {
        results.push((await h(env, this.ctx)) ?? null);
      } catch (err) {
        results.push({ error: (err as Error).message });
      }
    }
    send(200, { accepted: items.length, results });
  }
}
