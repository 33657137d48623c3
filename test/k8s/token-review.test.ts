// Sidecar authentication on Kubernetes: the control plane sends the sidecar's projected token to the API
// server's TokenReview endpoint. kube-apiserver cannot run here, so a loopback HTTPS server (certificate made
// with openssl) answers TokenReviews the way the API server documents them; everything else is real.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { requireBinary } from "../support/binaries.js";
import { freePort } from "../support/ports.js";
import { tokenReviewAuthenticator, staticTokenAuthenticator, ReviewCache } from "../../src/k8s/token-review.js";
import { k8sExtension } from "../../src/k8s/extension.js";
import { startControlPlane } from "../../src/control-plane/plane.js";
import { createLogger } from "../../src/telemetry/logger.js";

const CP_SA_TOKEN = "control-plane-sa-token";
const GOOD = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJl";
const OTHER_AUDIENCE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvdGhlciJ9.c2lnbmF0dXJl";
const NODE_USER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2RlIn0.c2lnbmF0dXJl";

interface FakeApiServer {
  url: string;
  ca: string;
  saDir: string;
  port: number;
  calls: { token: string; audiences: string[]; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A loopback HTTPS server answering POST /apis/authentication.k8s.io/v1/tokenreviews like kube-apiserver. */
async function fakeApiServer(): Promise<FakeApiServer> {
  const dir = await mkdtemp(join(tmpdir(), "outrigger-apiserver-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "ca.crt")], { stdio: "ignore" });
  const ca = execFileSync("cat", [join(dir, "ca.crt")]).toString();
  const key = execFileSync("cat", [join(dir, "key.pem")]).toString();
  await writeFile(join(dir, "token"), CP_SA_TOKEN + "\n");
  const calls: FakeApiServer["calls"] = [];
  const server = https.createServer({ cert: ca, key }, (req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/apis/authentication.k8s.io/v1/tokenreviews") {
        res.writeHead(404).end();
        return;
      }
      const review = JSON.parse(body);
      calls.push({ token: review.spec.token, audiences: review.spec.audiences, authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${CP_SA_TOKEN}`) {
        res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ kind: "Status", message: "tokenreviews.authentication.k8s.io is forbidden" }));
        return;
      }
      const status =
        review.spec.token === GOOD
          ? { authenticated: true, user: { username: "system:serviceaccount:shop:web", uid: "u1", groups: ["system:serviceaccounts"] }, audiences: ["outrigger"] }
          : review.spec.token === OTHER_AUDIENCE
            ? { authenticated: true, user: { username: "system:serviceaccount:shop:web" }, audiences: ["https://kubernetes.default.svc"] }
            : review.spec.token === NODE_USER
              ? { authenticated: true, user: { username: "system:node:worker-1" }, audiences: ["outrigger"] }
              : { authenticated: false, error: "invalid bearer token" };
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: review.spec, status }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    ca,
    saDir: dir,
    port,
    calls,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

test("TokenReview: a service-account token for audience outrigger becomes a SPIFFE principal; answers are cached", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const api = await fakeApiServer();
  const auth = tokenReviewAuthenticator({ apiServer: api.url, ca: api.ca, credentials: async () => CP_SA_TOKEN, trustDomain: "mesh.example" });
  t.after(async () => {
    await auth.close();
    await api.close();
  });
  const p = await auth(GOOD);
  assert.deepEqual(p, { subject: "system:serviceaccount:shop:web", namespace: "shop", serviceAccount: "web", spiffeId: "spiffe://mesh.example/ns/shop/sa/web", via: "tokenreview" });
  assert.deepEqual(api.calls[0], { token: GOOD, audiences: ["outrigger"], authorization: `Bearer ${CP_SA_TOKEN}` }, "asks for audience outrigger, as the control plane");
  assert.deepEqual(await auth(GOOD), p);
  assert.equal(api.calls.length, 1, "second check served from the cache");
  assert.equal(await auth("not.a.valid"), undefined);
  assert.equal(await auth(OTHER_AUDIENCE), undefined, "a token minted for another audience is refused");
  assert.equal(await auth(NODE_USER), undefined, "only service accounts are workloads");
});

test("TokenReview without rights or without an API server fails loudly, not as 'invalid token'", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const api = await fakeApiServer();
  const noRights = tokenReviewAuthenticator({ apiServer: api.url, ca: api.ca, credentials: async () => "wrong" });
  await assert.rejects(noRights(GOOD), /HTTP 403.*system:auth-delegator/);
  await noRights.close();
  await api.close();
  const down = tokenReviewAuthenticator({ apiServer: `https://127.0.0.1:${await freePort()}`, ca: api.ca, credentials: async () => CP_SA_TOKEN, timeoutMs: 2000 });
  await assert.rejects(down(GOOD), /TokenReview request .* failed/);
  await down.close();
});

test("on the control plane: TokenReview identifies sidecars (role sidecar), bad JWTs get 401, static dev tokens work", async (t) => {
  if (!requireBinary(t, "openssl")) return;
  const api = await fakeApiServer();
  const dataDir = await mkdtemp(join(tmpdir(), "outrigger-cp-"));
  const env = { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(api.port), OUTRIGGER_STATIC_TOKENS: "dev-token-0123456789abcdef=dev/checkout" };
  const cp = await startControlPlane({ dataDir, host: "127.0.0.1", port: 0, logger: createLogger("cp", "silent"), extensions: [k8sExtension(env, api.saDir)] });
  t.after(async () => {
    await cp.close();
    await api.close();
  });
  const url = `http://127.0.0.1:${cp.address.port}`;
  const ready = await fetch(`${url}/readyz`);
  assert.equal(ready.status, 200, "ready once TokenReview is configured");
  assert.equal(((await ready.json()) as { tokenReview: string }).tokenReview, "configured");
  const call = async (token: string) => {
    const r = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
  };
  // /v1/status is for operators and viewers: a recognised sidecar is authenticated (not 401) but forbidden (403).
  let r = await call(GOOD);
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.match(r.body.error!.message, /role sidecar may not/);
  r = await call("eyJ.bad.token");
  assert.equal(r.status, 401);
  assert.match(r.body.error!.message, /not valid for audience outrigger/);
  r = await call("dev-token-0123456789abcdef");
  assert.equal(r.status, 403, "static dev token maps to a sidecar principal");
  r = await call("some-other-opaque-token");
  assert.equal(r.status, 401, "unknown opaque tokens fall through to the built-in token check");
});

test("static tokens: malformed entries are refused at start; cache is bounded and counts evictions", async () => {
  assert.throws(() => staticTokenAuthenticator("short=ns/sa"), /at least 16 characters/);
  assert.throws(() => staticTokenAuthenticator("0123456789abcdefgh=Not_A_Namespace/sa"), /token=namespace\/serviceaccount/);
  const auth = staticTokenAuthenticator("0123456789abcdefgh=shop/web");
  assert.equal((await auth("0123456789abcdefgh"))?.spiffeId, "spiffe://cluster.local/ns/shop/sa/web");
  assert.equal(await auth("0123456789abcdefgX"), undefined);
  const cache = new ReviewCache(1000, 2);
  cache.set("a", undefined, 0);
  cache.set("b", undefined, 0);
  cache.set("c", undefined, 0);
  assert.equal(cache.size, 2);
  assert.equal(cache.evicted, 1);
  assert.equal(cache.get("a", 0), undefined);
  assert.ok(cache.get("c", 500));
  assert.equal(cache.get("c", 1500), undefined, "entries expire after the TTL");
});
