// OTLP/HTTP request bodies -> plain objects in OTLP/JSON shape (camelCase fields, ids as hex after normalize).
// Handles both encodings the spec allows (application/x-protobuf, application/json) and gzip; protobuf is decoded
// by the telemetry module's decoder (one OTLP schema in the codebase).
import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { MeshError } from "../../errors.js";
import { decodeLogsRequest, decodeMetricsRequest, decodeTraceRequest } from "../../telemetry/otlp-decode.js";

export type Signal = "traces" | "metrics" | "logs";
const DECODERS: Record<Signal, (b: Uint8Array) => Record<string, unknown>> = { traces: decodeTraceRequest, metrics: decodeMetricsRequest, logs: decodeLogsRequest };

const gunzipAsync = promisify(gunzip);

export type Encoding = "protobuf" | "json";

export function encodingOf(contentType: string | undefined): Encoding {
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct === "application/x-protobuf" || ct === "application/protobuf") return "protobuf";
  if (ct === "application/json") return "json";
  throw new MeshError("UNSUPPORTED_MEDIA_TYPE", `Content-Type "${ct || "(none)"}": send application/x-protobuf or application/json.`);
}

/** Inflates (when gzip) and decodes one export request. `maxBytes` bounds the inflated size (zip bombs). */
export async function decodeExport(signal: Signal, body: Buffer, enc: Encoding, contentEncoding: string | undefined, maxBytes: number): Promise<Record<string, unknown>> {
  const ce = (contentEncoding ?? "identity").trim().toLowerCase();
  let raw = body;
  if (ce === "gzip") {
    try {
      raw = await gunzipAsync(body, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || /maxOutputLength|larger than/i.test((err as Error).message))
        throw new MeshError("PAYLOAD_TOO_LARGE", `The inflated body exceeds ${maxBytes} bytes.`);
      throw new MeshError("BAD_REQUEST", `Content-Encoding gzip, but the body does not inflate: ${(err as Error).message}`);
    }
  } else if (ce !== "identity" && ce !== "") {
    throw new MeshError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding "${ce}": send gzip or identity.`);
  }
  if (enc === "json") {
    try {
      const v = JSON.parse(raw.toString("utf8")) as unknown;
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("the body is not a JSON object");
      return v as Record<string, unknown>;
    } catch (err) {
      throw new MeshError("BAD_REQUEST", `Invalid OTLP/JSON ${signal} body: ${(err as Error).message}`);
    }
  }
  try {
    return DECODERS[signal](raw);
  } catch (err) {
    throw new MeshError("BAD_REQUEST", `Invalid OTLP protobuf ${signal} body: ${(err as Error).message}`);
  }
}

/** The success response in the request's encoding: an empty Export*ServiceResponse (no partial success). */
export function encodeResponse(enc: Encoding): { body: Buffer; contentType: string } {
  // An empty protobuf message encodes to zero bytes.
  return enc === "json" ? { body: Buffer.from("{}"), contentType: "application/json" } : { body: Buffer.alloc(0), contentType: "application/x-protobuf" };
}
