// Where each Kubernetes workload kind keeps its pod template: the one place that knows those shapes.
// Injection (CLI and webhook) only ever sees a pod's metadata and spec through this module.

/** The subset of Kubernetes object shapes injection reads and writes; everything else passes through untouched. */
export type K8sObject = Record<string, any> & { apiVersion?: string; kind?: string; metadata?: ObjectMeta };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  restartPolicy?: string;
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [k: string]: unknown }[];
  serviceAccountName?: string;
  hostNetwork?: boolean;
  [k: string]: unknown;
}

/** A pod template found inside a workload: live references into the object, so edits land in place. */
export interface PodTemplate {
  metadata: ObjectMeta;
  spec: PodSpec;
}

/** Kinds that carry a pod template at spec.template (apps/v1, batch/v1 Job, core ReplicationController). */
const TEMPLATE_AT_SPEC = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController", "PodTemplate"]);

export const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Finds the pod template of a workload, or undefined when the kind has none (Service, ConfigMap, ...).
 * Throws a plain message when a workload kind is malformed (no containers), so the caller can name the document.
 */
export function podTemplateOf(obj: K8sObject): PodTemplate | undefined {
  const kind = obj.kind;
  let holder: Record<string, any> | undefined;
  if (kind === "Pod") holder = obj;
  else if (kind === "PodTemplate") holder = obj.template;
  else if (kind === "CronJob") holder = obj.spec?.jobTemplate?.spec?.template;
  else if (typeof kind === "string" && TEMPLATE_AT_SPEC.has(kind)) holder = obj.spec?.template;
  else return undefined;
  if (!isObject(holder) || !isObject(holder.spec) || !Array.isArray(holder.spec.containers) || holder.spec.containers.length === 0)
    throw new Error(`${kind} has no pod template with containers (expected ${templatePath(kind)}.spec.containers)`);
  holder.metadata ??= {};
  return holder as PodTemplate;
}

/** Where the template lives, for error messages. */
export function templatePath(kind: string): string {
  if (kind === "Pod") return "(the pod itself)";
  if (kind === "CronJob") return "spec.jobTemplate.spec.template";
  if (kind === "PodTemplate") return "template";
  return "spec.template";
}

/** "deployment/web" style name for messages. */
export const describeObject = (obj: K8sObject) => `${String(obj.kind ?? "object").toLowerCase()}/${obj.metadata?.name ?? obj.metadata?.generateName ?? "<unnamed>"}`;
