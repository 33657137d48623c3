// Bearer tokens: `ort_<id>_<secret>`. Only scrypt(secret, salt) is stored; the secret is shown once.
// Verified tokens are cached briefly (bounded) because scrypt is deliberately slow and sidecars call often.
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import type { IncomingMessage } from "node:http";
import type { Store, TokenRecord } from "../store/store.js";
import { bearerToken, type Authenticator, type AuthResult, type Principal, type Role } from "./principal.js";

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;
const TOKEN = /^ort_([a-f0-9]{16})_([A-Za-z0-9_-]{20,})$/;
const KEY_LEN = 32;

export interface CreatedToken {
  /** The secret bearer token: shown once, never stored. */
  token: string;
  record: TokenRecord;
}

export async function createToken(store: Store, opts: { role: Role; name?: string; service?: string; createdBy: string }): Promise<CreatedToken> {
  if (opts.role === "sidecar" && !opts.service) throw new Error("a sidecar token needs --service: the one service it may register and subscribe as");
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(24).toString("base64url");
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, KEY_LEN);
  const record: TokenRecord = {
    id,
    name: opts.name ?? `${opts.role}-${id.slice(0, 6)}`,
    role: opts.role,
    ...(opts.service ? { service: opts.service } : {}),
    salt: salt.toString("hex"),
    hash: hash.toString("hex"),
    created: new Date().toISOString(),
    createdBy: opts.createdBy,
  };
  await store.putToken(record);
  return { token: `ort_${id}_${secret}`, record };
}

export const principalOf = (t: TokenRecord): Principal => ({ subject: `token:${t.id} (${t.name})`, role: t.role, ...(t.service ? { service: t.service } : {}) });

export class TokenAuthenticator implements Authenticator {
  readonly name = "token";
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private static readonly CACHE_MAX = 4096;
  private static readonly CACHE_MS = 300_000;
  private readonly pending = new Map<string, Promise<AuthResult>>();

  constructor(private readonly store: Store) {}

  async authenticate(req: IncomingMessage): Promise<AuthResult> {
    const raw = bearerToken(req);
    if (!raw) return undefined;
    const m = TOKEN.exec(raw);
    if (!m) return undefined; // not one of ours: another authenticator (e.g. TokenReview) may know it
    const key = createHash("sha256").update(raw).digest("hex");
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    // Single flight: a burst of requests with one token (a sidecar's subscribe + ACK + heartbeat, or a reconnect
    // storm) runs scrypt once, not once per request.
    let pending = this.pending.get(key);
    if (!pending) {
      if (this.pending.size >= TokenAuthenticator.CACHE_MAX) return { reject: "Too many token verifications in flight; retry." };
      pending = this.verify(key, m[1]!, m[2]!).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async verify(key: string, id: string, secret: string): Promise<AuthResult> {
    const rec = await this.store.token(id);
    if (!rec) return { reject: "Unknown token." };
    const got = await scryptAsync(secret, Buffer.from(rec.salt, "hex"), KEY_LEN);
    if (!timingSafeEqual(got, Buffer.from(rec.hash, "hex"))) return { reject: "Invalid token." };
    const principal = principalOf(rec);
    if (this.cache.size >= TokenAuthenticator.CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { principal, until: Date.now() + TokenAuthenticator.CACHE_MS });
    return principal;
  }
}
