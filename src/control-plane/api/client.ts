// A small client for the control-plane API, used by the CLI: bearer token, a list of replica URLs tried in
// order (failover on connection errors), typed errors carrying the server's code and status.
import { request } from "undici";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export class ApiClient {
  constructor(
    readonly urls: string[],
    private readonly token: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {
    if (!urls.length) throw new Error("no control-plane URL (use --server or OUTRIGGER_CONTROL_PLANE)");
  }

  async call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
    let lastErr: unknown;
    for (const base of this.urls) {
      let res;
      try {
        res = await request(new URL(path, base.endsWith("/") ? base : `${base}/`), {
          method,
          headers: { accept: "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
      } catch (err) {
        lastErr = err; // connection-level failure: try the next replica
        continue;
      }
      const text = await res.body.text();
      let value: unknown;
      try {
        value = text ? JSON.parse(text) : {};
      } catch {
        throw new ApiError(res.statusCode, "BAD_RESPONSE", `${base} answered ${res.statusCode} with a non-JSON body`);
      }
      if (res.statusCode >= 400) {
        const e = (value as { error?: { code?: string; message?: string } }).error;
        throw new ApiError(res.statusCode, e?.code ?? "HTTP_" + res.statusCode, e?.message ?? `HTTP ${res.statusCode}`);
      }
      return value as T;
    }
    const msg = (lastErr as Error | undefined)?.message ?? "unreachable";
    throw new ApiError(0, "CONTROL_PLANE_UNAVAILABLE", `cannot reach the control plane at ${this.urls.join(", ")}: ${msg}`);
  }
}
