// Who is calling the control plane, and how that is decided: a chain of pluggable authenticators
// (bearer tokens here; workload certificates and Kubernetes TokenReview plug in beside it).
import type { IncomingMessage } from "node:http";

export const ROLES = ["operator", "viewer", "sidecar"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Stable name for the audit log, e.g. "token:3f9a1c (ci-deploy)" or "spiffe://mesh/ns/default/sa/payments". */
  subject: string;
  role: Role;
  /** For role sidecar: the only service it may register and subscribe as. */
  service?: string;
}

/**
 * An authenticator looks at a request and either recognises the caller (a Principal), rejects credentials it
 * owns but finds invalid ({ reject }), or returns undefined when the request carries nothing it understands,
 * so the next authenticator gets a turn.
 */
export type AuthResult = Principal | { reject: string } | undefined;

export interface Authenticator {
  readonly name: string;
  authenticate(req: IncomingMessage): AuthResult | Promise<AuthResult>;
}

export const isRole = (v: unknown): v is Role => typeof v === "string" && (ROLES as readonly string[]).includes(v);

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}
