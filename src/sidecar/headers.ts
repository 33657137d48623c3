// Header hygiene shared by both directions: hop-by-hop removal (RFC 9110 §7.6.1) and X-Forwarded-*.
import type { HeaderMap } from "./chain.js";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization", "expect", "http2-settings"]);

/** Removes hop-by-hop headers in place, including those named by Connection. Returns the same object. */
export function stripHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const conn = headers["connection"];
  if (conn !== undefined) {
    for (const v of Array.isArray(conn) ? conn : [conn]) for (const name of String(v).split(",")) {
      const n = name.trim().toLowerCase();
      if (n) delete headers[n];
    }
  }
  for (const k in headers) if (HOP_BY_HOP.has(k) || (k.charCodeAt(0) === 112 && k.startsWith("proxy-"))) delete headers[k];
  return headers;
}

export function appendForwarded(headers: HeaderMap, peerAddress: string, proto: string, authority: string): void {
  const xff = headers["x-forwarded-for"];
  headers["x-forwarded-for"] = xff ? `${Array.isArray(xff) ? xff.join(", ") : xff}, ${peerAddress}` : peerAddress;
  if (!headers["x-forwarded-proto"]) headers["x-forwarded-proto"] = proto;
  if (!headers["x-forwarded-host"] && authority) headers["x-forwarded-host"] = authority;
}
