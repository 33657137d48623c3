// What the control plane keeps, behind one interface with two implementations: an embedded file store
// (one replica, crash-safe) and Redis (several replicas sharing one server). Versions are append-only.
import type { AnyResource } from "../../config/schema.js";
import type { AuditEntry } from "../extension.js";
import type { Role } from "../auth/principal.js";

export type VersionAction = "apply" | "delete" | "rollback";

export interface ConfigVersion {
  /** Monotonic: 1, 2, 3… with no gaps. */
  version: number;
  /** Content hash of the resources (the same hash the sidecar reports for a plan). */
  hash: string;
  author: string;
  time: string;
  message: string;
  action: VersionAction;
  resources: AnyResource[];
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** Role sidecar: the service it may act for. */
  service?: string;
  /** scrypt parameters and output, hex. The secret itself is never stored. */
  salt: string;
  hash: string;
  created: string;
  createdBy: string;
}

export interface SidecarStatus {
  instance: string;
  service: string;
  address?: string;
  /** Last config version this sidecar acknowledged (applied). */
  ackedVersion?: number;
  ackedHash?: string;
  lastSeen: number;
  lastNack?: { version: number; reason: string; time: string };
  /** Which control-plane replica it is subscribed to, if any. */
  subscribedTo?: string;
}

export type EndpointHealth = "healthy" | "draining" | "unhealthy";

export interface EndpointRecord {
  service: string;
  instance: string;
  address: string;
  labels: Record<string, string>;
  health: EndpointHealth;
  expiresAt: number;
}

export type StoreEvent = { type: "version"; version: number } | { type: "registry" };

export interface Store {
  readonly kind: "file" | "redis";
  open(): Promise<void>;
  close(): Promise<void>;
  head(): Promise<ConfigVersion | undefined>;
  version(n: number): Promise<ConfigVersion | undefined>;
  /** Newest first, at most `limit`. */
  versions(limit: number): Promise<ConfigVersion[]>;
  /** Stores `v` only if the head is still v.version - 1 (compare-and-set); false when another writer won. */
  append(v: ConfigVersion): Promise<boolean>;
  appendAudit(e: AuditEntry): Promise<void>;
  /** Newest last, at most `limit`. */
  audit(limit: number): Promise<AuditEntry[]>;
  putToken(t: TokenRecord): Promise<void>;
  token(id: string): Promise<TokenRecord | undefined>;
  tokens(): Promise<TokenRecord[]>;
  putSidecar(s: SidecarStatus): Promise<void>;
  sidecars(): Promise<SidecarStatus[]>;
  /** Registers or refreshes an endpoint; returns true when the endpoint set changed (new, moved or health changed). */
  putEndpoint(e: EndpointRecord): Promise<boolean>;
  removeEndpoint(service: string, instance: string): Promise<boolean>;
  /** Live endpoints (expired ones are dropped and reported through `onEvent`). */
  endpoints(): Promise<EndpointRecord[]>;
  /** Removes expired endpoints; true when any were removed. */
  expireEndpoints(now: number): Promise<boolean>;
  /** Change notifications, including those made by other replicas. */
  onEvent(fn: (e: StoreEvent) => void): void;
}

/** Hard caps: the registry and status tables are bounded so a misbehaving client cannot grow them forever. */
export const LIMITS = { endpoints: 50_000, sidecars: 50_000 } as const;

export const sameEndpoint = (a: EndpointRecord | undefined, b: EndpointRecord) =>
  !!a && a.address === b.address && a.health === b.health && JSON.stringify(a.labels) === JSON.stringify(b.labels);
