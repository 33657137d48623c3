// Who is calling the control plane, on Kubernetes: sidecars present their projected service-account token
// (audience "outrigger"); the control plane asks the API server (TokenReview) and maps the answer to a
// SPIFFE identity. For development without a cluster, a static token table stands in (never in production).
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Agent, request } from "undici";
import { spiffeIdOf, TOKEN_AUDIENCE } from "./inject.js";

export interface WorkloadPrincipal {
  /** The Kubernetes username, e.g. system:serviceaccount:shop:web */
  subject: string;
  namespace: string;
  serviceAccount: string;
  spiffeId: string;
  via: "tokenreview" | "static";
}

/** Resolves a bearer token to a principal, or undefined when the token is not valid for Outrigger. */
export type Authenticator = (token: string) => Promise<WorkloadPrincipal | undefined>;

export class TokenReviewError extends Error {
  readonly code = "CONTROL_PLANE_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenReviewError";
  }
}

export interface TokenReviewOptions {
  /** https://host:port of the API server. */
  apiServer: string;
  /** PEM CA bundle that signed the API server's certificate. */
  ca?: string;
  /** The control plane's own credential (its service-account token), re-read as the kubelet rotates it. */
  credentials: () => Promise<string>;
  audience?: string;
  trustDomain?: string;
  /** How long an answer (yes or no) is reused; bounded so a revoked token stops working soon. */
  cacheTtlMs?: number;
  cacheMax?: number;
  timeoutMs?: number;
}

const SA_PREFIX = "system:serviceaccount:";

/** Service-account username → principal; anything else (a user, a node) is not a workload. */
export function principalOf(username: string, trustDomain: string, via: WorkloadPrincipal["via"]): WorkloadPrincipal | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const [namespace, serviceAccount, ...rest] = username.slice(SA_PREFIX.length).split(":");
  if (!namespace || !serviceAccount || rest.length) return undefined;
  return { subject: username, namespace, serviceAccount, spiffeId: spiffeIdOf(trustDomain, namespace, serviceAccount), via };
}

/** A bounded TTL cache keyed by token digest (tokens themselves are never kept). */
export class ReviewCache {
  private readonly entries = new Map<string, { at: number; value: WorkloadPrincipal | undefined }>();
  /** Entries evicted because the cache was full (the "what it dropped" metric). */
  evicted = 0;
  constructor(private readonly ttlMs: number, private readonly max: number) {}

  get(key: string, now = Date.now()): { value: WorkloadPrincipal | undefined } | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  set(key: string, value: WorkloadPrincipal | undefined, now = Date.now()): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
      this.evicted++;
    }
    this.entries.set(key, { at: now, value });
  }

  get size(): number {
    return this.entries.size;
  }
}

const digest = (token: string) => createHash("sha256").update(token).digest("base64url");

/** TokenReview against the API server, with a bounded cache of answers. */
export function tokenReviewAuthenticator(opts: TokenReviewOptions): Authenticator & { cache: ReviewCache; close(): Promise<void> } {
  const audience = opts.audience ?? TOKEN_AUDIENCE;
  const trustDomain = opts.trustDomain ?? "cluster.local";
  const timeoutMs = opts.timeoutMs ?? 5000;
  const cache = new ReviewCache(opts.cacheTtlMs ?? 60_000, opts.cacheMax ?? 10_000);
  const dispatcher = new Agent({ connect: { ...(opts.ca ? { ca: opts.ca } : {}), timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const url = new URL("/apis/authentication.k8s.io/v1/tokenreviews", opts.apiServer).toString();

  const authenticate = async (token: string): Promise<WorkloadPrincipal | undefined> => {
    if (!token) return undefined;
    const key = digest(token);
    const hit = cache.get(key);
    if (hit) return hit.value;
    let status: number;
    let body: any;
    try {
      const res = await request(url, {
        method: "POST",
        dispatcher,
        headers: { authorization: `Bearer ${await opts.credentials()}`, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [audience] } }),
      });
      status = res.statusCode;
      body = await res.body.json().catch(() => undefined);
    } catch (err) {
      throw new TokenReviewError(`TokenReview request to ${opts.apiServer} failed: ${(err as Error).message}`, { cause: err });
    }
    // 401/403 here means the control plane itself lacks rights (system:auth-delegator), not a bad workload token.
    if (status !== 201 && status !== 200) throw new TokenReviewError(`TokenReview answered HTTP ${status}: ${body?.message ?? "no message"}; does the control plane's service account have the system:auth-delegator ClusterRole?`);
    const st = body?.status ?? {};
    const audiences: unknown = st.audiences;
    // The API server echoes the audiences the token is valid for; a token for another audience is not ours.
    const audienceOk = !Array.isArray(audiences) || audiences.includes(audience);
    const principal = st.authenticated === true && audienceOk && typeof st.user?.username === "string" ? principalOf(st.user.username, trustDomain, "tokenreview") : undefined;
    cache.set(key, principal);
    return principal;
  };
  return Object.assign(authenticate, { cache, close: () => dispatcher.close() });
}

export const IN_CLUSTER_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The authenticator a control plane running in a pod uses; undefined outside a cluster. */
export async function inClusterAuthenticator(env: NodeJS.ProcessEnv = process.env, saDir = IN_CLUSTER_SA_DIR): Promise<ReturnType<typeof tokenReviewAuthenticator> | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) return undefined;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const ca = await readFile(`${saDir}/ca.crt`, "utf8");
  return tokenReviewAuthenticator({
    apiServer: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca,
    credentials: async () => (await readFile(`${saDir}/token`, "utf8")).trim(),
    ...(env.OUTRIGGER_TRUST_DOMAIN ? { trustDomain: env.OUTRIGGER_TRUST_DOMAIN } : {}),
  });
}

/**
 * Development fallback: OUTRIGGER_STATIC_TOKENS="token1=namespace/serviceaccount,token2=ns/sa".
 * Tokens are compared in constant time; an entry that does not parse is an error, not silently ignored.
 */
export function staticTokenAuthenticator(spec: string, trustDomain = "cluster.local"): Authenticator {
  const table: { digest: Buffer; principal: WorkloadPrincipal }[] = [];
  for (const raw of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]{16,})=([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(raw);
    if (!m) throw new Error(`OUTRIGGER_STATIC_TOKENS: entry "${raw.replace(/=.*/, "=…").slice(0, 8)}…" must be token=namespace/serviceaccount with a token of at least 16 characters`);
    const principal = principalOf(`${SA_PREFIX}${m[2]}:${m[4]}`, trustDomain, "static")!;
    table.push({ digest: createHash("sha256").update(m[1]!).digest(), principal });
  }
  return async (token) => {
    const d = createHash("sha256").update(token).digest();
    let found: WorkloadPrincipal | undefined;
    for (const e of table) if (timingSafeEqual(e.digest, d)) found = e.principal;
    return found;
  };
}
