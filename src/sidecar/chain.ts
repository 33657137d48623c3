// The request path as a stack of small policies (undici interceptors / tower layers in spirit).
// A Policy sees an Exchange and the next policy, and returns a Reply. compose() stacks them once per plan.
import type { Readable } from "node:stream";
import type { IncomingHttpHeaders } from "node:http";

export type Direction = "inbound" | "outbound";
export type HeaderMap = IncomingHttpHeaders;

export interface Peer {
  address: string;
  port: number;
  /** SPIFFE ID of the peer sidecar when it presented a verified certificate. */
  identity?: string;
}

/** Annotations policies leave for telemetry: spans, metrics labels and access logs read them. */
export interface ExchangeNotes {
  route?: string;
  backend?: string;
  subset?: string;
  endpoint?: string;
  retries?: number;
  errorCode?: string;
  fault?: string;
  [k: string]: unknown;
}

/** A protocol-agnostic request as the policies see it. Policies may rewrite fields; they never see node:http objects. */
export interface Exchange {
  readonly direction: Direction;
  method: string;
  /** Host (lower case, without port) used for route lookup. */
  host: string;
  /** Authority as received (host[:port]). */
  authority: string;
  /** Path and query, origin-form. */
  path: string;
  headers: HeaderMap;
  /** Request body, or null when the request has none. Consumed at most once unless a policy buffers it. */
  body: Readable | null;
  readonly peer: Peer;
  readonly signal: AbortSignal;
  readonly requestId: string;
  /** process.hrtime.bigint() at arrival. */
  readonly start: bigint;
  readonly notes: ExchangeNotes;
  /** Where the request goes, set by the route policy: a backend (and subset), or the local app on inbound. */
  target?: Target;
  /** Per-try upstream timeout, set by the timeout/retry policies; the forwarder applies it. */
  tryTimeoutMs?: number;
  /** Called once when the response has been fully sent or the exchange failed. Bounded: one per policy. */
  onEnd(fn: (outcome: Outcome) => void): void;
}

export interface Outcome {
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationSeconds: number;
  error?: string;
  aborted: boolean;
}

export interface Target {
  backend: string;
  subset?: string;
  /** true on inbound: the local app rather than a mesh backend. */
  app?: boolean;
}

export interface Reply {
  status: number;
  headers: HeaderMap | Record<string, string | string[] | undefined>;
  /** Streamed body, a buffer, or null for none. */
  body: Readable | Buffer | string | null;
  /** Filled once the body has ended (HTTP trailers). */
  trailers?: Record<string, string | string[] | undefined>;
}

export type Next = (ex: Exchange) => Promise<Reply>;
export type Policy = (ex: Exchange, next: Next) => Promise<Reply>;

/** Stacks policies: the first one listed is the outermost. The terminal handler ends the chain. */
export function compose(policies: Policy[], terminal: Next): Next {
  let next = terminal;
  for (let i = policies.length - 1; i >= 0; i--) {
    const policy = policies[i]!;
    const inner = next;
    next = (ex) => policy(ex, inner);
  }
  return next;
}

export const replyWith = (status: number, headers: Reply["headers"], body: Reply["body"]): Reply => ({ status, headers, body });
