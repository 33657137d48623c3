// The seam for other modules to extend the control plane without editing its core: extra routes
// (certificate issuance, the Kubernetes /inject admission webhook), extra authenticators (workload
// certificates, TokenReview) and the listening server itself (TLS/mTLS). The list lives in extensions.ts.
import type http from "node:http";
import type { Logger } from "pino";
import type { RouteTable } from "./api/routes.js";
import type { Authenticator, Principal } from "./auth/principal.js";

export interface AuditEntry {
  /** ISO time; filled in when omitted. */
  time?: string;
  /** Principal subject, or "anonymous". */
  who: string;
  action: string;
  version?: number;
  result: "ok" | "rejected" | "denied";
  reason?: string;
  [k: string]: unknown;
}

export interface ControlPlaneContext {
  logger: Logger;
  /** Directory for local state (file store, certificates an extension keeps). */
  dataDir: string;
  /** Every option the `outrigger control-plane` command was given (extensions add their flags there). */
  flags: Readonly<Record<string, unknown>>;
  /** Appends to the audit log (JSON lines, append-only). */
  audit(entry: AuditEntry): Promise<void>;
  /** Who a request is from, through every authenticator; undefined when anonymous. Throws UNAUTHENTICATED on bad credentials. */
  authenticate(req: http.IncomingMessage): Promise<Principal | undefined>;
}

export interface ControlPlaneExtension {
  readonly name: string;
  /** Mounts extra routes on the control plane's table. */
  routes?(table: RouteTable): void;
  /** Authenticators tried before the built-in bearer tokens, in order. */
  authenticators?(): Authenticator[];
  /**
   * Creates the listening server around the control plane's request listener, e.g. https.createServer with
   * TLS and client certificates. The first extension that returns a server wins; default: plain node:http.
   */
  createServer?(listener: http.RequestListener): http.Server | undefined;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

export type ControlPlaneExtensionFactory = (ctx: ControlPlaneContext) => ControlPlaneExtension;
