// Kubernetes on the control plane: mounts the /inject admission webhook, authenticates sidecars by their
// projected service-account token (TokenReview; a static table for dev), and serves HTTPS when a certificate is
// mounted (the API server only calls webhooks over TLS). Configured by environment, set in deploy/kubernetes.
import { readFileSync } from "node:fs";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import { MeshError } from "../errors.js";
import type { ControlPlaneExtension, ControlPlaneExtensionFactory } from "../control-plane/extension.js";
import { bearerToken, type Authenticator as CpAuthenticator, type AuthResult } from "../control-plane/auth/principal.js";
import { DEFAULT_OPTIONS, type InjectOptions } from "./inject.js";
import { inClusterAuthenticator, IN_CLUSTER_SA_DIR, staticTokenAuthenticator, TokenReviewError, type Authenticator, type WorkloadPrincipal } from "./token-review.js";
import { review, AdmissionError, MAX_REVIEW_BYTES } from "./webhook.js";

export interface K8sExtensionEnv {
  /** Sidecar image the webhook injects. */
  OUTRIGGER_INJECT_IMAGE?: string;
  /** Control-plane URL injected sidecars bootstrap from. */
  OUTRIGGER_INJECT_CONTROL_PLANE?: string;
  OUTRIGGER_TRUST_DOMAIN?: string;
  /** Dev only: "token=namespace/serviceaccount,…". */
  OUTRIGGER_STATIC_TOKENS?: string;
  /** PEM files for HTTPS (the webhook's serving certificate). */
  OUTRIGGER_TLS_CERT_FILE?: string;
  OUTRIGGER_TLS_KEY_FILE?: string;
  KUBERNETES_SERVICE_HOST?: string;
  KUBERNETES_SERVICE_PORT?: string;
}

/** A projected service-account token is a JWT: three base64url parts. Anything else is another authenticator's. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Adapts a workload authenticator to the control plane's chain: a verified service account is a sidecar principal. */
export function workloadAuthenticator(name: string, resolve: () => Authenticator | undefined, owns: "jwt" | "listed"): CpAuthenticator {
  return {
    name,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const auth = resolve();
      const token = bearerToken(req);
      if (!auth || !token || (owns === "jwt" && !JWT.test(token))) return undefined;
      let p: WorkloadPrincipal | undefined;
      try {
        p = await auth(token);
      } catch (err) {
        if (err instanceof TokenReviewError) throw new MeshError("TOKEN_REVIEW_UNAVAILABLE", err.message);
        throw err;
      }
      // A JWT that TokenReview refuses is a bad credential; a token missing from the static table is someone else's.
      if (!p) return owns === "jwt" ? { reject: "The service-account token is not valid for audience outrigger (expired, revoked, or another audience)." } : undefined;
      // A sidecar may register only as the service named like its service account (one account per service).
      return { subject: p.spiffeId, role: "sidecar", service: p.serviceAccount };
    },
  };
}

export function injectOptionsFrom(env: K8sExtensionEnv): InjectOptions {
  return {
    ...DEFAULT_OPTIONS,
    ...(env.OUTRIGGER_INJECT_IMAGE ? { image: env.OUTRIGGER_INJECT_IMAGE } : {}),
    ...(env.OUTRIGGER_INJECT_CONTROL_PLANE ? { controlPlane: env.OUTRIGGER_INJECT_CONTROL_PLANE } : {}),
    ...(env.OUTRIGGER_TRUST_DOMAIN ? { trustDomain: env.OUTRIGGER_TRUST_DOMAIN } : {}),
  };
}

export function k8sExtension(env: K8sExtensionEnv = process.env as K8sExtensionEnv, saDir = IN_CLUSTER_SA_DIR): ControlPlaneExtensionFactory {
  return (ctx): ControlPlaneExtension => {
    const injectOpts = injectOptionsFrom(env);
    let reviewer: Awaited<ReturnType<typeof inClusterAuthenticator>>;
    const staticTokens = env.OUTRIGGER_STATIC_TOKENS ? staticTokenAuthenticator(env.OUTRIGGER_STATIC_TOKENS, injectOpts.trustDomain) : undefined;
    if (staticTokens) ctx.logger.warn({ event: "k8s.static-tokens" }, "OUTRIGGER_STATIC_TOKENS is set: static workload tokens are for development only");
    return {
      name: "k8s",
      routes(table) {
        // Readiness (the Deployment's readinessProbe): in a cluster, a replica is ready once it can verify
        // sidecars' tokens; /healthz stays the liveness check.
        table.add({
          method: "GET",
          path: "/readyz",
          auth: "public",
          action: "check readiness",
          handler: (c) => {
            const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST);
            const ready = !inCluster || reviewer !== undefined;
            c.send(ready ? 200 : 503, { status: ready ? "ready" : "starting", tokenReview: reviewer ? "configured" : inCluster ? "not ready" : "not in a cluster", staticTokens: Boolean(staticTokens) });
          },
        });
        table.add({
          method: "POST",
          path: "/inject",
          // The API server calls webhooks without a bearer token; TLS plus the NetworkPolicy guard it, and the
          // answer is a pure function of the pod it was sent (no state changes, nothing to steal).
          auth: "public",
          action: "inject sidecars",
          async handler(c) {
            const len = Number(c.req.headers["content-length"] ?? 0);
            if (len > MAX_REVIEW_BYTES) throw new MeshError("PAYLOAD_TOO_LARGE", `AdmissionReview larger than ${MAX_REVIEW_BYTES} bytes.`);
            try {
              c.send(200, review(await c.json(), injectOpts));
            } catch (err) {
              if (err instanceof AdmissionError) throw new MeshError("BAD_REQUEST", err.message);
              throw err;
            }
          },
        });
      },
      authenticators: () => [workloadAuthenticator("tokenreview", () => reviewer, "jwt"), workloadAuthenticator("static-workload-tokens", () => staticTokens, "listed")],
      createServer(listener) {
        if (!env.OUTRIGGER_TLS_CERT_FILE || !env.OUTRIGGER_TLS_KEY_FILE) return undefined;
        return https.createServer({ cert: readFileSync(env.OUTRIGGER_TLS_CERT_FILE), key: readFileSync(env.OUTRIGGER_TLS_KEY_FILE) }, listener);
      },
      async start() {
        reviewer = await inClusterAuthenticator(env as NodeJS.ProcessEnv, saDir);
        if (reviewer) ctx.logger.info({ event: "k8s.tokenreview", audience: "outrigger" }, "sidecars authenticate with projected service-account tokens (TokenReview)");
      },
      async close() {
        await reviewer?.close();
      },
    };
  };
}
