// deploy/kubernetes validated offline: every document against the Kubernetes schema of its GA apiVersion
// (kubernetes-models), `kubectl kustomize` builds it, the references between objects hold (selectors, ports,
// probes, Secrets, the webhook's Service), and the Outrigger resources in the ConfigMap pass our own validator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT, k8sSchemaErrors } from "../support/k8s.js";
import { optionalBinary } from "../support/binaries.js";
import { parseResources } from "../../src/config/load.js";
import { DEFAULT_OPTIONS } from "../../src/k8s/inject.js";

const DIR = `${REPO_ROOT}deploy/kubernetes`;
const docsOf = (text: string) => parseAllDocuments(text).map((d) => {
  assert.deepEqual(d.errors, [], "YAML parses");
  return d.toJS() as any;
}).filter((d) => d != null);

const manifestFiles = () => readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");

test("every manifest document parses and validates against its apiVersion's schema", () => {
  let count = 0;
  for (const f of manifestFiles()) {
    for (const doc of docsOf(readFileSync(`${DIR}/${f}`, "utf8"))) {
      count++;
      assert.deepEqual(k8sSchemaErrors(doc), [], `${f}: ${doc.kind}/${doc.metadata?.name}`);
    }
  }
  assert.ok(count >= 17, `expected all objects, found ${count}`);
});

test("the schema check rejects what it should (deprecated apiVersion, missing fields, bad enums)", () => {
  assert.match(k8sSchemaErrors({ apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: { name: "x" } })[0]!, /not a GA version/);
  assert.match(k8sSchemaErrors({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { template: {} } })[0]!, /selector/);
  assert.match(k8sSchemaErrors({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ name: "x" }] } })[0]!, /port/);
  assert.match(k8sSchemaErrors({ apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } })[0]!, /does not exist/);
});

function build(t: import("node:test").TestContext): any[] | undefined {
  if (!optionalBinary(t, "kubectl")) return undefined;
  const out = execFileSync("kubectl", ["kustomize", DIR], { encoding: "utf8", timeout: 60_000 });
  return docsOf(out);
}

test("kubectl kustomize builds the install; every built object validates; the ConfigMap holds valid Outrigger resources", (t) => {
  const objs = build(t);
  if (!objs) return;
  const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`);
  for (const want of [
    "Namespace/outrigger-system",
    "Deployment/outrigger-control-plane",
    "Service/outrigger-control-plane",
    "PodDisruptionBudget/outrigger-control-plane",
    "Deployment/outrigger-collector",
    "Service/outrigger-collector",
    "StatefulSet/outrigger-redis",
    "Service/outrigger-redis",
    "ClusterRoleBinding/outrigger-control-plane-tokenreview",
    "MutatingWebhookConfiguration/outrigger-sidecar-injector",
    "NetworkPolicy/default-deny-ingress",
  ]) assert.ok(kinds.includes(want), `${want} in the build (got ${kinds.join(", ")})`);
  for (const o of objs) assert.deepEqual(k8sSchemaErrors(o), [], `${o.kind}/${o.metadata.name}`);
  for (const o of objs) if (o.kind !== "Namespace" && o.kind !== "ClusterRoleBinding" && o.kind !== "MutatingWebhookConfiguration") assert.equal(o.metadata.namespace, "outrigger-system", `${o.kind}/${o.metadata.name} is namespaced`);

  const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("outrigger-mesh-config-"));
  assert.ok(cm, "generated ConfigMap with a content hash");
  const resources = parseResources(cm.data["mesh.yaml"], "outrigger-mesh-config/mesh.yaml");
  assert.ok(resources.length >= 1);
  assert.ok(resources.some((r) => r.resource.kind === "Mesh"));
  // kustomize rewrote every reference to the hashed name: no workload mounts a ConfigMap that does not exist.
  for (const w of objs.filter((o) => o.spec?.template)) {
    for (const v of w.spec.template.spec.volumes ?? []) if (v.configMap) assert.ok(objs.some((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name), `${w.metadata.name} mounts ConfigMap ${v.configMap.name}`);
  }
});

test("workloads are wired right: 2 control-plane replicas on Redis, probes on /healthz and /readyz, limits, non-root, read-only", (t) => {
  const objs = build(t);
  if (!objs) return;
  const byName = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  const cp = byName("Deployment", "outrigger-control-plane");
  assert.equal(cp.spec.replicas, 2);
  const cpArgs: string[] = cp.spec.template.spec.containers[0].args;
  const store = cpArgs[cpArgs.indexOf("--store") + 1]!;
  const redisSvc = byName("Service", "outrigger-redis");
  assert.equal(store, `redis://${redisSvc.metadata.name}.outrigger-system.svc:${redisSvc.spec.ports[0].port}/0`, "control plane points at the Redis Service");
  const pdb = byName("PodDisruptionBudget", "outrigger-control-plane");
  assert.deepEqual(pdb.spec.selector.matchLabels, cp.spec.selector.matchLabels);
  assert.ok(pdb.spec.minAvailable < cp.spec.replicas, "the PDB still allows a voluntary eviction");

  for (const w of objs.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind))) {
    const name = w.metadata.name;
    const tpl = w.spec.template;
    for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) assert.equal(tpl.metadata.labels[k], v, `${name}: selector matches template labels`);
    const podSec = tpl.spec.securityContext ?? {};
    assert.equal(podSec.runAsNonRoot, true, `${name}: runAsNonRoot`);
    assert.ok(podSec.runAsUser > 0, `${name}: numeric non-root user`);
    for (const c of tpl.spec.containers) {
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${name}/${c.name}: requests`);
      assert.ok(c.resources?.limits?.cpu && c.resources?.limits?.memory, `${name}/${c.name}: limits`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${name}/${c.name}: read-only root filesystem`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ["ALL"]);
      assert.ok(c.readinessProbe && c.livenessProbe, `${name}/${c.name}: readiness and liveness probes`);
      const ports = new Map<string, number>((c.ports ?? []).map((p: any) => [p.name, p.containerPort]));
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe].filter(Boolean)) {
        if (!probe.httpGet) continue;
        assert.ok(typeof probe.httpGet.port === "number" || ports.has(probe.httpGet.port), `${name}/${c.name}: probe port ${probe.httpGet.port} is declared`);
      }
      if (String(c.image).startsWith("outrigger/outrigger")) {
        assert.equal(c.image, DEFAULT_OPTIONS.image, `${name}: the image version matches what inject adds`);
        assert.equal(c.readinessProbe.httpGet.path, "/readyz");
        assert.equal(c.livenessProbe.httpGet.path, "/healthz");
        const writable = new Set(c.volumeMounts.map((m: any) => m.mountPath));
        assert.ok(writable.has("/tmp"), `${name}: /tmp is an emptyDir (read-only root filesystem)`);
      }
      for (const m of c.volumeMounts ?? []) assert.ok((tpl.spec.volumes ?? []).some((v: any) => v.name === m.name) || w.spec.volumeClaimTemplates?.some((v: any) => v.metadata.name === m.name), `${name}/${c.name}: volume ${m.name} exists`);
    }
  }
  // Services select pods that exist and target declared ports.
  for (const svc of objs.filter((o) => o.kind === "Service")) {
    const target = objs.find((o) => o.spec?.template && Object.entries(svc.spec.selector).every(([k, v]) => o.spec.template.metadata.labels[k] === v));
    assert.ok(target, `Service ${svc.metadata.name} selects a workload`);
    const names = target.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
    for (const p of svc.spec.ports) assert.ok(names.includes(p.targetPort), `Service ${svc.metadata.name} targetPort ${p.targetPort} is a named container port`);
  }
  // NetworkPolicies select real pods.
  for (const np of objs.filter((o) => o.kind === "NetworkPolicy")) {
    const sel = np.spec.podSelector.matchLabels ?? {};
    assert.ok(objs.some((o) => o.spec?.template && Object.entries(sel).every(([k, v]) => o.spec.template.metadata.labels[k] === v)), `NetworkPolicy ${np.metadata.name} selects pods`);
  }
});

test("the webhook: namespace opt-in, opt-out label excluded, v1 reviews, failurePolicy chosen, pointing at the control plane's /inject", (t) => {
  const objs = build(t);
  if (!objs) return;
  const mwc = objs.find((o) => o.kind === "MutatingWebhookConfiguration");
  const wh = mwc.webhooks[0];
  assert.deepEqual(wh.namespaceSelector.matchLabels, { "outrigger.dev/inject": "enabled" });
  assert.deepEqual(wh.objectSelector.matchExpressions[0], { key: "outrigger.dev/inject", operator: "NotIn", values: ["false"] });
  assert.deepEqual(wh.admissionReviewVersions, ["v1"]);
  assert.deepEqual(wh.rules[0].resources, ["pods"]);
  assert.deepEqual(wh.rules[0].operations, ["CREATE"]);
  assert.ok(["Fail", "Ignore"].includes(wh.failurePolicy));
  assert.equal(wh.sideEffects, "None");
  assert.ok(wh.timeoutSeconds <= 10);
  const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === wh.clientConfig.service.name);
  assert.equal(svc.metadata.namespace, wh.clientConfig.service.namespace);
  assert.ok(svc.spec.ports.some((p: any) => p.port === wh.clientConfig.service.port), "webhook port is a Service port");
  assert.equal(wh.clientConfig.service.path, "/inject");
  const ns = objs.find((o) => o.kind === "Namespace");
  assert.notEqual(ns.metadata.labels?.["outrigger.dev/inject"], "enabled", "the mesh's own namespace is never injected");
  // The control plane serves HTTPS from the Secret the docs tell you to create.
  const docs = readFileSync(`${REPO_ROOT}docs/kubernetes.md`, "utf8");
  for (const w of objs.filter((o) => o.spec?.template)) {
    for (const v of w.spec.template.spec.volumes ?? []) if (v.secret) assert.match(docs, new RegExp(v.secret.secretName), `docs/kubernetes.md tells how to create Secret ${v.secret.secretName}`);
  }
});
