// Every error Outrigger itself produces: its stable code, HTTP status and a message a user can act on.
// Responses carry `x-outrigger-error: <code>` and `{"error":{"code","message"}}`; codes never change meaning.

export const ERROR_CATALOG = {
  // 4xx: the request itself is at fault
  BAD_REQUEST: { status: 400, message: "The request is malformed." },
  REQUEST_HEADERS_TOO_LARGE: { status: 431, message: "Request headers exceed the sidecar's limit (size or count)." },
  URI_TOO_LONG: { status: 414, message: "The request target exceeds the sidecar's limit." },
  BAD_PROXY_TARGET: { status: 400, message: "The absolute-form request target could not be parsed." },
  LOOP_DETECTED: { status: 508, message: "The request would be forwarded back to this sidecar." },
  AUTHZ_DENIED: { status: 403, message: "The request was denied by an authorization policy." },
  MTLS_REQUIRED: { status: 403, message: "This listener accepts only mutual TLS (the mesh's mTLS mode is strict)." },
  UNAUTHENTICATED: { status: 401, message: "A bearer token is required." },
  FORBIDDEN: { status: 403, message: "The token's role does not allow this operation." },
  RATE_LIMITED: { status: 429, message: "Rate limit exceeded; retry after the time in Retry-After." },
  NOT_FOUND: { status: 404, message: "No such resource." },
  NO_ROUTE: { status: 404, message: "No route rule matches this request." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body exceeds the configured limit." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "The request body's Content-Type or Content-Encoding is not supported." },
  METHOD_NOT_ALLOWED: { status: 405, message: "The HTTP method is not allowed on this path." },
  INGEST_LIMITED: { status: 429, message: "This sender is over its ingest limit; retry after the time in Retry-After." },
  CONFIG_INVALID: { status: 422, message: "The configuration is invalid." },
  CONFLICT: { status: 409, message: "The resource changed since it was read." },
  // 5xx: the mesh or an upstream is at fault
  UNKNOWN_SERVICE: { status: 503, message: "The target service is not known to this sidecar (no Backend or endpoints configured)." },
  NO_HEALTHY_ENDPOINT: { status: 503, message: "Every endpoint of the backend is ejected or unhealthy." },
  UPSTREAM_CONNECT_FAILED: { status: 502, message: "The upstream refused or failed the connection." },
  UPSTREAM_RESET: { status: 502, message: "The upstream reset the connection before completing the response." },
  UPSTREAM_PROTOCOL_ERROR: { status: 502, message: "The upstream sent an invalid HTTP response." },
  UPSTREAM_IDENTITY_MISMATCH: { status: 502, message: "The upstream sidecar's SPIFFE ID is not one the target service may present." },
  UPSTREAM_TLS_FAILED: { status: 502, message: "The mTLS handshake with the upstream sidecar failed (certificate not trusted, expired, or no workload certificate yet)." },
  UPSTREAM_TIMEOUT: { status: 504, message: "The upstream did not answer within the timeout." },
  REQUEST_TIMEOUT: { status: 504, message: "The request did not complete within the route's request timeout." },
  CIRCUIT_OPEN: { status: 503, message: "The backend's circuit breaker is open." },
  BACKEND_OVERFLOW: { status: 503, message: "The backend's connection, pending or active request limit is reached." },
  OVERLOADED: { status: 503, message: "The sidecar is shedding load; retry after the time in Retry-After." },
  FAULT_INJECTED: { status: 500, message: "A fault policy aborted this request." },
  CONTROL_PLANE_UNAVAILABLE: { status: 503, message: "The control plane has been unreachable past the grace period and the mesh fails closed." },
  TOKEN_REVIEW_UNAVAILABLE: { status: 503, message: "The Kubernetes API server could not be asked to verify the workload token (TokenReview); retry shortly." },
  DRAINING: { status: 503, message: "The sidecar is draining and no longer accepts requests." },
  INTERNAL: { status: 500, message: "An internal error occurred in the sidecar." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class MeshError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail?: string, opts: { status?: number; headers?: Record<string, string>; cause?: unknown } = {}) {
    const base = ERROR_CATALOG[code];
    super(detail ? `${base.message} ${detail}` : base.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "MeshError";
    this.code = code;
    this.status = opts.status ?? base.status;
    this.headers = opts.headers;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }

  static is(err: unknown): err is MeshError {
    return err instanceof MeshError;
  }
}

/** Maps a low-level socket/undici error onto a mesh error code. */
export function classifyUpstreamError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const code = (err as { code?: string } | undefined)?.code ?? "";
  const causeCode = ((err as { cause?: { code?: string } } | undefined)?.cause?.code) ?? "";
  const c = code || causeCode;
  if (c === "ERR_OUTRIGGER_PEER_IDENTITY") return new MeshError("UPSTREAM_IDENTITY_MISMATCH", (err as Error).message, { cause: err });
  if (c === "ERR_OUTRIGGER_NO_CERTIFICATE" || c.startsWith("ERR_SSL_") || c.startsWith("ERR_TLS_") || /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(c))
    return new MeshError("UPSTREAM_TLS_FAILED", `(${c})`, { cause: err });
  switch (c) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EAI_AGAIN":
    case "UND_ERR_CONNECT_TIMEOUT":
      return new MeshError(c === "UND_ERR_CONNECT_TIMEOUT" ? "UPSTREAM_TIMEOUT" : "UPSTREAM_CONNECT_FAILED", `(${c})`, { cause: err });
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return new MeshError("UPSTREAM_TIMEOUT", `(${c})`, { cause: err });
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_HEADER_TOKEN":
    case "UND_ERR_RESPONSE_CONTENT_LENGTH_MISMATCH":
    case "UND_ERR_INFO":
      return new MeshError("UPSTREAM_PROTOCOL_ERROR", `(${c})`, { cause: err });
    default:
      return new MeshError("UPSTREAM_RESET", c ? `(${c})` : undefined, { cause: err });
  }
}
