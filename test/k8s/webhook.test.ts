// The /inject admission webhook on a real control-plane process: an AdmissionReview v1 goes over HTTP, the
// returned base64 JSONPatch is applied with fast-json-patch, and the result must equal `outrigger inject`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import fastJsonPatch from "fast-json-patch";
import { parse } from "yaml";
import { cli } from "../support/processes.js";
import { startControlPlane, type ControlPlaneProc } from "../support/control-plane.js";
import { REPO_ROOT, k8sSchemaErrors } from "../support/k8s.js";

const POD_FILE = `${REPO_ROOT}test/k8s/fixtures/pod.yaml`;
const pod = () => parse(readFileSync(POD_FILE, "utf8"));

const admissionReview = (object: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: randomUUID(),
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "shop",
    operation: "CREATE",
    userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
    object,
    dryRun: false,
    ...extra,
  },
});

async function post(cp: ControlPlaneProc, body: unknown) {
  const r = await fetch(`${cp.url}/inject`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
}

test("AdmissionReview round trip: the JSONPatch turns the pod into exactly what `outrigger inject` makes", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());

  const review = admissionReview(pod());
  const r = await post(cp, review);
  assert.equal(r.status, 200);
  assert.equal(r.body.apiVersion, "admission.k8s.io/v1");
  assert.equal(r.body.kind, "AdmissionReview");
  assert.equal(r.body.response.uid, review.request.uid, "response.uid echoes request.uid");
  assert.equal(r.body.response.allowed, true);
  assert.equal(r.body.response.patchType, "JSONPatch");
  const ops = JSON.parse(Buffer.from(r.body.response.patch, "base64").toString("utf8"));
  assert.ok(Array.isArray(ops) && ops.length > 0);
  assert.deepEqual(fastJsonPatch.validate(ops, pod()), undefined, "every op is a valid RFC 6902 operation against the pod");
  const patched = fastJsonPatch.applyPatch(pod(), ops, true, false).newDocument;

  const viaCli = await cli(["inject", "-f", POD_FILE, "--namespace", "shop", "-o", "json"]);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.deepEqual(patched, JSON.parse(viaCli.stdout), "webhook and CLI apply the same injection");
  assert.equal(patched.spec.initContainers[0].restartPolicy, "Always");
  assert.equal(patched.metadata.annotations["outrigger.dev/spiffe-id"], "spiffe://cluster.local/ns/shop/sa/web", "namespace comes from the AdmissionRequest");
  assert.deepEqual(k8sSchemaErrors({ ...patched, metadata: { ...patched.metadata, name: "web-5d8f7c9b6-x2x9z" } }), []);

  // Reinvocation (reinvocationPolicy: IfNeeded) sends the already-injected pod: no patch the second time.
  const again = await post(cp, admissionReview(patched));
  assert.equal(again.body.response.allowed, true);
  assert.equal(again.body.response.patch, undefined);
});

test("the webhook never blocks a pod: opt-out, UPDATE and broken pods are admitted unchanged (with a warning)", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  const optOut = pod();
  optOut.metadata.annotations = { "outrigger.dev/inject": "false" };
  let r = await post(cp, admissionReview(optOut));
  assert.equal(r.body.response.allowed, true);
  assert.equal(r.body.response.patch, undefined);
  assert.match(r.body.response.warnings[0], /opted out by annotation outrigger.dev\/inject=false/);

  r = await post(cp, admissionReview(pod(), { operation: "UPDATE" }));
  assert.deepEqual(Object.keys(r.body.response).sort(), ["allowed", "uid"]);

  const broken = pod();
  broken.metadata.annotations = { "outrigger.dev/app-port": "not-a-port" };
  r = await post(cp, admissionReview(broken));
  assert.equal(r.body.response.allowed, true);
  assert.match(r.body.response.warnings[0], /app-port must be a port number/);
});

test("malformed reviews get 400 with a reason, never a crash", async (t) => {
  const cp = await startControlPlane();
  t.after(() => cp.stop());
  let r = await post(cp, "{not json");
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /not valid JSON/);
  r = await post(cp, { ...admissionReview(pod()), apiVersion: "admission.k8s.io/v1beta1" });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /admissionReviewVersions/);
  r = await post(cp, { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { object: pod() } });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /request.uid is required/);
  const get = await fetch(`${cp.url}/inject`);
  assert.equal(get.status, 405);
  await get.body?.cancel();
  // still serving
  r = await post(cp, admissionReview(pod()));
  assert.equal(r.status, 200);
});
