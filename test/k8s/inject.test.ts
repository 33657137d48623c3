import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { cli } from "../support/processes.js";
import { REPO_ROOT, k8sSchemaErrors } from "../support/k8s.js";
import { podTemplateOf } from "../../src/k8s/workload.js";
import { injectObject, DEFAULT_OPTIONS, SIDECAR_NAME } from "../../src/k8s/inject.js";

const FIXTURES = `${REPO_ROOT}test/k8s/fixtures/`;
const fixture = (name: string) => `${FIXTURES}${name}`;
const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as any).filter((d) => d != null);

async function inject(args: string[], stdin?: string) {
  const r = await cli(["inject", ...args], stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `inject ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));

/** The native-sidecar shape: first init container, restartable, probed on /readyz, identity mounted. */
function assertNativeShape(obj: any, expect: { namespace: string; sa: string; service: string; appPort: number; appContainers: string[] }) {
  const t = podTemplateOf(obj)!;
  const sidecar = t.spec.initContainers![0]!;
  assert.equal(sidecar.name, SIDECAR_NAME);
  assert.equal(sidecar.restartPolicy, "Always", "native sidecar = init container with restartPolicy Always");
  assert.deepEqual(t.spec.containers.map((c) => c.name), expect.appContainers, "app containers unchanged in number and order");
  assert.ok(!t.spec.containers.some((c) => c.name === SIDECAR_NAME), "no sidecar among the app containers");
  const args = sidecar.args as string[];
  assert.equal(args[0], "sidecar");
  assert.equal(args[args.indexOf("--service") + 1], expect.service);
  assert.equal(args[args.indexOf("--app") + 1], `127.0.0.1:${expect.appPort}`);
  assert.equal(args[args.indexOf("--token-file") + 1], "/var/run/secrets/outrigger/token", "the projected token is the control-plane credential");
  assert.equal(args[args.indexOf("--instance") + 1], "$(POD_NAME)");
  assert.deepEqual((sidecar.startupProbe as any).httpGet, { path: "/readyz", port: 15000 }, "app waits for the sidecar's /readyz");
  assert.deepEqual((sidecar.readinessProbe as any).httpGet, { path: "/readyz", port: 15000 });
  assert.deepEqual((sidecar.livenessProbe as any).httpGet, { path: "/healthz", port: 15000 });
  const spiffe = `spiffe://cluster.local/ns/${expect.namespace}/sa/${expect.sa}`;
  assert.equal(envOf(sidecar).OUTRIGGER_SPIFFE_ID, spiffe);
  assert.equal(t.metadata.annotations!["outrigger.dev/spiffe-id"], spiffe);
  assert.equal(t.metadata.annotations!["outrigger.dev/injected"], "native");
  const identity = t.spec.volumes!.find((v) => v.name === "outrigger-identity") as any;
  const sources = identity.projected.sources;
  assert.deepEqual(sources[0].serviceAccountToken, { audience: "outrigger", expirationSeconds: 3600, path: "token" });
  assert.equal(sources[1].configMap.name, "outrigger-ca-bundle");
  assert.ok(sidecar.volumeMounts!.some((m) => m.name === "outrigger-identity" && m.readOnly));
  assert.equal((sidecar.securityContext as any).readOnlyRootFilesystem, true);
  assert.equal((sidecar.securityContext as any).runAsNonRoot, true);
  for (const c of t.spec.containers) assert.ok(envOf(c).NO_PROXY?.includes("127.0.0.1"), `${c.name} gets NO_PROXY`);
  assert.deepEqual(k8sSchemaErrors(obj), [], "injected object validates against the Kubernetes schema");
}

const CASES = [
  { file: "deployment.yaml", namespace: "shop", sa: "web", service: "web", appPort: 8080, appContainers: ["web"] },
  { file: "statefulset.yaml", namespace: "payments", sa: "ledger", service: "ledger", appPort: 9000, appContainers: ["ledger"] },
  { file: "daemonset.yaml", namespace: "ops", sa: "default", service: "node-agent", appPort: 8080, appContainers: ["agent"] },
  { file: "job.yaml", namespace: "reports", sa: "reporter", service: "reporter", appPort: 8080, appContainers: ["report"] },
  { file: "cronjob.yaml", namespace: "reports", sa: "default", service: "cleanup", appPort: 8080, appContainers: ["cleanup"] },
];

for (const c of CASES) {
  test(`inject ${c.file}: native sidecar shape, valid, idempotent`, async () => {
    const original = readFileSync(fixture(c.file), "utf8");
    assert.deepEqual(docsOf(original).flatMap(k8sSchemaErrors), [], "fixture itself is valid");
    const once = await inject(["-f", fixture(c.file)]);
    assert.match(once.stderr, /injected \(native\)/);
    const workload = docsOf(once.stdout)[0];
    assertNativeShape(workload, c);
    const twice = await inject(["-f", "-"], once.stdout);
    assert.equal(twice.stdout, once.stdout, "injecting twice changes nothing (byte for byte)");
    assert.match(twice.stderr, /already injected \(native\), unchanged/);
  });
}

test("existing init containers keep their order after the sidecar; the app's own HTTP_PROXY wins", async () => {
  const sts = docsOf((await inject(["-f", fixture("statefulset.yaml")])).stdout)[0];
  assert.deepEqual(podTemplateOf(sts)!.spec.initContainers!.map((c) => c.name), [SIDECAR_NAME, "migrate"]);
  const ds = docsOf((await inject(["-f", fixture("daemonset.yaml")])).stdout)[0];
  const agent = podTemplateOf(ds)!.spec.containers[0]!;
  assert.equal(envOf(agent).HTTP_PROXY, "http://egress.ops.svc:3128");
  assert.equal(agent.env!.filter((e) => e.name === "HTTP_PROXY").length, 1);
  assert.equal(envOf(agent).http_proxy, "http://127.0.0.1:15001");
});

test("Job keeps its restartPolicy; the sidecar cannot hold it open (it is not a regular container)", async () => {
  const job = docsOf((await inject(["-f", fixture("job.yaml")])).stdout)[0];
  const t = podTemplateOf(job)!;
  assert.equal(t.spec.restartPolicy, "Never");
  assert.deepEqual(t.spec.containers.map((c) => c.name), ["report"]);
});

test("opt-out by annotation and by label: output is the input, unchanged", async () => {
  const original = readFileSync(fixture("opt-out.yaml"), "utf8");
  const r = await inject(["-f", fixture("opt-out.yaml")]);
  assert.equal(r.stdout, original.replace(/\n$/, "") + "\n");
  assert.match(r.stderr, /deployment\/legacy-billing: opted out by annotation outrigger.dev\/inject=false/);
  assert.match(r.stderr, /job\/one-off: opted out by label outrigger.dev\/inject=false/);
});

test("multi-document input: order kept, untouched documents verbatim with comments", async () => {
  const r = await inject(["-f", fixture("deployment.yaml")]);
  const docs = docsOf(r.stdout);
  assert.deepEqual(docs.map((d) => d.kind), ["Deployment", "Service"]);
  assert.match(r.stdout, /^# A plain web Deployment/, "leading comment of a changed document kept");
  assert.match(r.stdout, /name: web # comments in untouched documents survive\n/);
  assert.match(r.stdout, /selector: \{ app: web \}/, "untouched document keeps its flow style");
});

test("-o json: one object as itself, several as a v1 List", async () => {
  const one = JSON.parse((await inject(["-f", fixture("job.yaml"), "-o", "json"])).stdout);
  assert.equal(one.kind, "Job");
  const many = JSON.parse((await inject(["-f", fixture("deployment.yaml"), "-o", "json"])).stdout);
  assert.equal(many.kind, "List");
  assert.deepEqual(many.items.map((i: any) => i.kind), ["Deployment", "Service"]);
  assert.deepEqual(k8sSchemaErrors(many.items[0]), []);
  // A List goes back in and stays the same.
  const again = JSON.parse((await inject(["-f", "-", "-o", "json"], JSON.stringify(many))).stdout);
  assert.deepEqual(again, many);
});

test("--legacy: a regular first container with a postStart wait; switching modes re-injects cleanly", async () => {
  const legacy = await inject(["-f", fixture("job.yaml"), "--legacy"]);
  const t = podTemplateOf(docsOf(legacy.stdout)[0])!;
  assert.deepEqual(t.spec.containers.map((c) => c.name), [SIDECAR_NAME, "report"], "sidecar first: the kubelet starts containers in order");
  assert.equal(t.spec.initContainers, undefined);
  const sidecar = t.spec.containers[0]!;
  assert.equal(sidecar.restartPolicy, undefined);
  const hook = (sidecar.lifecycle as any).postStart.exec.command as string[];
  assert.deepEqual(hook.slice(2, 5), ["probe", "--wait", "120s"]);
  assert.equal(hook[5], "http://127.0.0.1:15000/readyz");
  assert.equal(t.metadata.annotations!["outrigger.dev/injected"], "legacy");
  assert.deepEqual(k8sSchemaErrors(docsOf(legacy.stdout)[0]), []);
  // legacy -> native equals native from scratch (upgrade path when a cluster reaches 1.29).
  const upgraded = await inject(["-f", "-"], legacy.stdout);
  const direct = await inject(["-f", fixture("job.yaml")]);
  assert.deepEqual(docsOf(upgraded.stdout), docsOf(direct.stdout));
});

test("re-injecting with a new image rolls only the sidecar image", () => {
  const job = docsOf(readFileSync(fixture("job.yaml"), "utf8"))[0];
  const v1 = injectObject(job, { ...DEFAULT_OPTIONS, image: "outrigger/outrigger:1.0.0" }).object;
  const v2 = injectObject(v1, { ...DEFAULT_OPTIONS, image: "outrigger/outrigger:1.1.0" });
  assert.equal(v2.changed, true);
  const sidecars = podTemplateOf(v2.object)!.spec.initContainers!.filter((c) => c.name === SIDECAR_NAME);
  assert.equal(sidecars.length, 1);
  assert.equal(sidecars[0]!.image, "outrigger/outrigger:1.1.0");
});

test("Pod (what the webhook sees): service from labels, namespace from --namespace", async () => {
  const r = await inject(["-f", fixture("pod.yaml"), "--namespace", "shop"]);
  const pod = docsOf(r.stdout)[0];
  assertNativeShape({ ...pod, metadata: { ...pod.metadata, name: "web-5d8f7c9b6-abcde" } }, { namespace: "shop", sa: "web", service: "web", appPort: 8080, appContainers: ["web"] });
});

test("bad input: clear errors naming the file and line, non-zero exit", async () => {
  const missing = await cli(["inject", "-f", "/nonexistent/deploy.yaml"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\/deploy.yaml/);
  const badYaml = await cli(["inject", "-f", "-"], { stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n" });
  assert.equal(badYaml.code, 1);
  assert.match(badYaml.stderr, /<stdin>:\d+: YAML:/);
  const noContainers = await cli(["inject", "-f", "-"], { stdin: "kind: Service\napiVersion: v1\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {}}}\n" });
  assert.equal(noContainers.code, 1);
  assert.match(noContainers.stderr, /<stdin>:5: deployment\/d: Deployment has no pod template with containers \(expected spec.template.spec.containers\)/);
  const badPort = await cli(["inject", "-f", "-"], { stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {outrigger.dev/app-port: http}}\nspec: {containers: [{name: a, image: a}]}\n" });
  assert.equal(badPort.code, 1);
  assert.match(badPort.stderr, /outrigger.dev\/app-port must be a port number/);
  const badFormat = await cli(["inject", "-f", fixture("job.yaml"), "-o", "table"]);
  assert.equal(badFormat.code, 2);
});

test("the documented example (examples/kubernetes/web.yaml) injects into valid objects", async () => {
  const r = await inject(["-f", `${REPO_ROOT}examples/kubernetes/web.yaml`]);
  const docs = docsOf(r.stdout);
  assert.deepEqual(docs.map((d) => d.kind), ["Deployment", "ServiceAccount", "Service"]);
  for (const d of docs) assert.deepEqual(k8sSchemaErrors(d), []);
  const t = podTemplateOf(docs[0])!;
  const ports = t.spec.initContainers![0]!.ports!.map((p) => p.name);
  assert.ok(ports.includes(docs[2].spec.ports[0].targetPort), "the Service's targetPort is the sidecar's named inbound port");
});
