// Sidecar injection as pure functions over parsed Kubernetes objects: `outrigger inject` and the /inject
// admission webhook both call injectObject, so a CLI-injected manifest and a webhook-mutated pod are identical.
//
// Injection is an upsert, not an append: anything Outrigger added before is replaced by what it would add now,
// so injecting twice changes nothing and re-injecting with a new image rolls the sidecar version.
import { readFileSync } from "node:fs";
import { describeObject, isObject, podTemplateOf, type Container, type K8sObject, type ObjectMeta, type PodSpec } from "./workload.js";

export const OUTRIGGER_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();

/** Annotation and label keys users and tools see. */
export const ANNOTATIONS = {
  /** "false" (annotation or label, on the workload or its pod template) opts out; "true" is the default. */
  inject: "outrigger.dev/inject",
  /** Set by injection: "native" or "legacy". */
  injected: "outrigger.dev/injected",
  spiffeId: "outrigger.dev/spiffe-id",
  /** Overrides for what injection infers. */
  service: "outrigger.dev/service",
  appPort: "outrigger.dev/app-port",
  defaultContainer: "kubectl.kubernetes.io/default-container",
} as const;

export const SIDECAR_NAME = "outrigger-proxy";
export const IDENTITY_VOLUME = "outrigger-identity";
export const TMP_VOLUME = "outrigger-tmp";
export const IDENTITY_DIR = "/var/run/secrets/outrigger";
export const CA_BUNDLE_CONFIGMAP = "outrigger-ca-bundle";
export const TOKEN_AUDIENCE = "outrigger";
/** The CLI entry inside the image (see Dockerfile); exec hooks call node directly, the image has no shell needs. */
export const IMAGE_CLI = ["node", "/app/dist/src/cli/main.js"];

export interface InjectOptions {
  image: string;
  /** native: init container with restartPolicy Always (Kubernetes 1.29+). legacy: a regular container + postStart wait. */
  mode: "native" | "legacy";
  /** Namespace used for the SPIFFE id when the object does not say (the webhook passes the request's namespace). */
  namespace: string;
  trustDomain: string;
  controlPlane: string;
  ports: { inbound: number; outbound: number; admin: number };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** Hosts the app reaches directly, never through the sidecar. */
  noProxy: string[];
}

export const DEFAULT_OPTIONS: InjectOptions = {
  image: `outrigger/outrigger:${OUTRIGGER_VERSION}`,
  mode: "native",
  namespace: "default",
  trustDomain: "cluster.local",
  controlPlane: "https://outrigger-control-plane.outrigger-system.svc:8443",
  ports: { inbound: 15006, outbound: 15001, admin: 15000 },
  // A sidecar idles at ~80 MB RSS and reached ~116 MB under saturating load (docs/benchmarks.md); the V8 heap
  // is capped below the memory limit (NODE_OPTIONS below).
  resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
  noProxy: ["localhost", "127.0.0.1", "::1", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
};

export type InjectStatus = "injected" | "opted-out" | "no-pod-template" | "skipped";

export interface InjectResult {
  /** The (possibly) mutated copy; the input is never modified. */
  object: K8sObject;
  status: InjectStatus;
  /** Human-readable reason, e.g. "opted out by annotation outrigger.dev/inject=false". */
  reason: string;
  changed: boolean;
}

/** Injects the sidecar into any object with a pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, List). */
export function injectObject(input: K8sObject, opts: InjectOptions = DEFAULT_OPTIONS): InjectResult {
  const object = structuredClone(input);
  if (object.kind === "List" && Array.isArray(object.items)) {
    const results = (object.items as K8sObject[]).map((item) => injectObject(item, opts));
    object.items = results.map((r) => r.object);
    const changed = results.some((r) => r.changed);
    return { object, changed, status: results.some((r) => r.status === "injected") ? "injected" : "no-pod-template", reason: results.map((r) => `${describeObject(r.object)}: ${r.reason}`).join("; ") };
  }
  const template = podTemplateOf(object);
  if (!template) return { object, changed: false, status: "no-pod-template", reason: `kind ${String(object.kind)} has no pod template` };
  const optOut = optedOut(object.metadata) ?? optedOut(template.metadata);
  if (optOut) return { object, changed: false, status: "opted-out", reason: `opted out by ${optOut}` };
  if (template.spec.hostNetwork) return { object, changed: false, status: "skipped", reason: "hostNetwork pods share the node's ports; not injected" };

  const namespace = object.metadata?.namespace || template.metadata.namespace || opts.namespace;
  injectPod(template.metadata, template.spec, { ...opts, namespace }, object.metadata);
  const changed = !deepEqual(input, object);
  return { object, changed, status: "injected", reason: changed ? `injected (${opts.mode})` : `already injected (${opts.mode}), unchanged` };
}

function optedOut(meta: ObjectMeta | undefined): string | undefined {
  if (!meta) return undefined;
  if (isFalse(meta.annotations?.[ANNOTATIONS.inject])) return `annotation ${ANNOTATIONS.inject}=false`;
  if (isFalse(meta.labels?.[ANNOTATIONS.inject])) return `label ${ANNOTATIONS.inject}=false`;
  return undefined;
}
const isFalse = (v: unknown) => typeof v === "string" && ["false", "disabled", "no", "off"].includes(v.toLowerCase());

/** SPIFFE identity of a workload, the same shape Istio and Linkerd use: spiffe://<trust domain>/ns/<ns>/sa/<sa>. */
export const spiffeIdOf = (trustDomain: string, namespace: string, serviceAccount: string) => `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/** Mutates one pod template in place. */
function injectPod(meta: ObjectMeta, spec: PodSpec, opts: InjectOptions, owner: ObjectMeta | undefined): void {
  // Undo any earlier injection first (either mode), so the result depends only on the user's spec + options.
  spec.containers = spec.containers.filter((c) => c.name !== SIDECAR_NAME);
  if (spec.initContainers) {
    spec.initContainers = spec.initContainers.filter((c) => c.name !== SIDECAR_NAME);
    if (spec.initContainers.length === 0) delete spec.initContainers;
  }
  const apps = spec.containers;
  if (apps.length === 0) throw new Error(`the pod template has no containers besides ${SIDECAR_NAME}`);

  const serviceAccount = spec.serviceAccountName || "default";
  const spiffeId = spiffeIdOf(opts.trustDomain, opts.namespace, serviceAccount);
  const service = serviceNameOf(meta, owner, serviceAccount);
  const appPort = appPortOf(meta, apps);
  const sidecar = sidecarContainer(opts, { service, appPort, spiffeId });

  if (opts.mode === "native") spec.initContainers = [sidecar, ...(spec.initContainers ?? [])];
  else spec.containers = [sidecar, ...apps];

  const proxy = `http://127.0.0.1:${opts.ports.outbound}`;
  const noProxy = opts.noProxy.join(",");
  for (const c of apps) {
    // The app's own value wins: a container that already sets a proxy knows what it wants.
    setEnvIfAbsent(c, "HTTP_PROXY", proxy);
    setEnvIfAbsent(c, "http_proxy", proxy);
    setEnvIfAbsent(c, "NO_PROXY", noProxy);
    setEnvIfAbsent(c, "no_proxy", noProxy);
  }

  spec.volumes = [...(spec.volumes ?? []).filter((v) => v.name !== IDENTITY_VOLUME && v.name !== TMP_VOLUME), ...sidecarVolumes()];

  meta.annotations = { ...meta.annotations, [ANNOTATIONS.injected]: opts.mode, [ANNOTATIONS.spiffeId]: spiffeId };
  meta.annotations[ANNOTATIONS.defaultContainer] ??= apps[0]!.name;
}

function setEnvIfAbsent(c: Container, name: string, value: string): void {
  const env = (c.env ??= []);
  if (!env.some((e) => e.name === name)) env.push({ name, value });
}

/**
 * The service a sidecar registers as. The control plane lets a TokenReview-authenticated sidecar act only as the
 * service named like its service account, so a dedicated service account names the service; otherwise labels.
 */
function serviceNameOf(meta: ObjectMeta, owner: ObjectMeta | undefined, serviceAccount: string): string {
  const fromMeta =
    meta.annotations?.[ANNOTATIONS.service] ||
    (serviceAccount !== "default" ? serviceAccount : undefined) ||
    meta.labels?.["app.kubernetes.io/name"] ||
    meta.labels?.app ||
    owner?.annotations?.[ANNOTATIONS.service] ||
    owner?.name ||
    meta.name ||
    owner?.generateName?.replace(/-$/, "");
  return (fromMeta || "app").slice(0, 63);
}

function appPortOf(meta: ObjectMeta, apps: Container[]): number {
  const explicit = meta.annotations?.[ANNOTATIONS.appPort];
  if (explicit !== undefined) {
    const n = Number(explicit);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`annotation ${ANNOTATIONS.appPort} must be a port number 1-65535 (got ${JSON.stringify(explicit)})`);
    return n;
  }
  for (const c of apps) for (const p of c.ports ?? []) if ((p.protocol ?? "TCP") === "TCP" && Number.isInteger(p.containerPort)) return p.containerPort;
  return 8080;
}

function sidecarContainer(opts: InjectOptions, w: { service: string; appPort: number; spiffeId: string }): Container {
  const { inbound, outbound, admin } = opts.ports;
  const readyz = () => ({ httpGet: { path: "/readyz", port: admin } });
  const c: Container = {
    name: SIDECAR_NAME,
    image: opts.image,
    imagePullPolicy: "IfNotPresent",
    args: [
      "sidecar",
      "--service", w.service,
      "--app", `127.0.0.1:${w.appPort}`,
      "--inbound", `0.0.0.0:${inbound}`,
      // Outbound capture is HTTP_PROXY on loopback: no iptables, no NET_ADMIN, no init container.
      "--outbound", `127.0.0.1:${outbound}`,
      // The admin port listens on the pod IP so the kubelet can probe it and Prometheus can scrape it.
      "--admin", `0.0.0.0:${admin}`,
      "--control-plane", opts.controlPlane,
      // The projected token is the sidecar's credential; the control plane checks it with TokenReview.
      "--token-file", `${IDENTITY_DIR}/token`,
      "--last-known-good", "/tmp/outrigger/last-known-good.json",
      // $(POD_NAME) is expanded by the kubelet from the env below.
      "--instance", "$(POD_NAME)",
    ],
    env: [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "OUTRIGGER_SPIFFE_ID", value: w.spiffeId },
      // Node adds this bundle to its trust store: the sidecar verifies the control plane's certificate with it.
      { name: "NODE_EXTRA_CA_CERTS", value: `${IDENTITY_DIR}/ca.crt` },
      { name: "OTEL_SERVICE_NAME", value: w.service },
      // Keep the V8 heap well under the container's memory limit so pressure shows as GC, not an OOM kill.
      { name: "NODE_OPTIONS", value: "--max-old-space-size=160" },
    ],
    ports: [
      { name: "outrigger-in", containerPort: inbound, protocol: "TCP" },
      { name: "outrigger-admin", containerPort: admin, protocol: "TCP" },
    ],
    resources: structuredClone(opts.resources),
    // The kubelet holds the app containers until this probe passes (native sidecar and legacy postStart alike).
    startupProbe: { ...readyz(), periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 120 },
    readinessProbe: { ...readyz(), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: "/healthz", port: admin }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: IDENTITY_VOLUME, mountPath: IDENTITY_DIR, readOnly: true },
      { name: TMP_VOLUME, mountPath: "/tmp" },
    ],
  };
  if (opts.mode === "native") {
    // A restartable init container: started (and startup-probed) before the app, stopped after it; Jobs complete.
    c.restartPolicy = "Always";
  } else {
    // Older clusters: the kubelet starts containers in order and waits for each postStart hook, so the app
    // (listed after this container) starts only once the sidecar answers /readyz.
    c.lifecycle = {
      postStart: { exec: { command: [...IMAGE_CLI, "probe", "--wait", "120s", `http://127.0.0.1:${admin}/readyz`] } },
    };
    c.env!.push({ name: "OUTRIGGER_SIDECAR_MODE", value: "legacy" });
  }
  return c;
}

function sidecarVolumes(): { name: string; [k: string]: unknown }[] {
  return [
    {
      name: IDENTITY_VOLUME,
      projected: {
        sources: [
          // A short-lived token only the control plane accepts (audience "outrigger"), rotated by the kubelet.
          { serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: 3600, path: "token" } },
          // The mesh CA bundle, published per namespace; optional so a pod still starts before the first publish.
          { configMap: { name: CA_BUNDLE_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }], optional: true } },
        ],
      },
    },
    { name: TMP_VOLUME, emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
  ];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
