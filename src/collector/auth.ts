// Who may talk to the collector. Authentication is a list of pluggable authenticators tried in order (bearer
// tokens now; a workload-certificate authenticator can be added in front without touching the server), then
// authorization maps the principal's role onto what it may do: senders ingest, viewers read, operators both.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { parse } from "yaml";
import { MeshError } from "../errors.js";

export type Role = "sender" | "viewer" | "operator";
export type Permission = "ingest" | "read";

export interface Principal {
  name: string;
  role: Role;
  /** How the principal proved itself, for the audit log. */
  via: string;
}

/** Returns the principal, undefined when this authenticator does not apply, or throws MeshError when it applies and fails. */
export type Authenticator = (req: IncomingMessage) => Principal | undefined | Promise<Principal | undefined>;

const GRANTS: Record<Role, readonly Permission[]> = { sender: ["ingest"], viewer: ["read"], operator: ["ingest", "read"] };
/** Role names shared with the control plane's tokens: its "sidecar" role is a sender here. */
const ROLE_ALIASES: Record<string, Role> = { sender: "sender", sidecar: "sender", viewer: "viewer", operator: "operator", admin: "operator" };

export function parseRole(v: string, where: string): Role {
  const r = ROLE_ALIASES[v];
  if (!r) throw new Error(`${where}: role "${v}" is not one of sender, sidecar, viewer, operator`);
  return r;
}

export interface StaticToken {
  name: string;
  role: Role;
  /** sha256 of the token, hex. */
  sha256: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * A token file (YAML or JSON):
 *   tokens:
 *     - { name: checkout-sidecar, role: sender, token: "s3cr3t..." }
 *     - { name: alice, role: viewer, sha256: "<hex of sha256(token)>" }
 */
export async function loadTokenFile(file: string): Promise<StaticToken[]> {
  let doc: unknown;
  try {
    doc = parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: cannot read token file: ${(err as Error).message}`);
  }
  const list = (doc as { tokens?: unknown })?.tokens;
  if (!Array.isArray(list)) throw new Error(`${file}: expected a top-level "tokens:" list`);
  return list.map((t: Record<string, unknown>, i) => {
    const where = `${file}: tokens[${i}]`;
    if (typeof t?.name !== "string" || !t.name) throw new Error(`${where}.name: required`);
    if (typeof t.role !== "string") throw new Error(`${where}.role: required (sender, viewer or operator)`);
    const hash = typeof t.sha256 === "string" ? t.sha256.toLowerCase() : typeof t.token === "string" && t.token.length >= 16 ? sha256(t.token) : "";
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`${where}: needs "token" (at least 16 characters) or "sha256" (64 hex digits)`);
    return { name: t.name, role: parseRole(t.role, `${where}.role`), sha256: hash };
  });
}

/** Bearer tokens compared by their sha256 (constant time), so the file may hold hashes only. */
export function bearerTokens(tokens: StaticToken[]): Authenticator {
  const byHash = new Map(tokens.map((t) => [t.sha256, t]));
  return (req) => {
    const h = req.headers.authorization;
    if (!h) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) throw new MeshError("UNAUTHENTICATED", "The Authorization header must be \"Bearer <token>\".");
    const digest = sha256(m[1]!);
    const t = byHash.get(digest);
    if (!t || !timingSafeEqual(Buffer.from(t.sha256, "hex"), Buffer.from(digest, "hex"))) throw new MeshError("UNAUTHENTICATED", "The bearer token is not known to this collector.");
    return { name: t.name, role: t.role, via: "token" };
  };
}

export async function authenticate(authenticators: readonly Authenticator[], req: IncomingMessage): Promise<Principal> {
  for (const a of authenticators) {
    const p = await a(req);
    if (p) return p;
  }
  throw new MeshError("UNAUTHENTICATED", "Send Authorization: Bearer <token>.");
}

export function authorize(p: Principal, needed: Permission): void {
  if (!GRANTS[p.role].includes(needed)) throw new MeshError("FORBIDDEN", `"${p.name}" has role ${p.role}, which cannot ${needed}; ${needed === "read" ? "use a viewer or operator token" : "use a sender or operator token"}.`);
}
