// The /inject mutating admission webhook: an AdmissionReview v1 in, the same injection `outrigger inject`
// applies, and a base64 JSONPatch out. Mounted on the control plane's HTTPS server by src/k8s/extension.ts.
import fastJsonPatch from "fast-json-patch";
import { DEFAULT_OPTIONS, injectObject, type InjectOptions } from "./inject.js";
import { isObject, type K8sObject } from "./workload.js";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
/** The API server sends at most a few MiB per review; anything larger is not a pod. */
export const MAX_REVIEW_BYTES = 4 * 1024 * 1024;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string };
}

export interface AdmissionReviewOut {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

export class AdmissionError extends Error {
  readonly code = "BAD_REQUEST";
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = "AdmissionError";
  }
}

/**
 * Answers one AdmissionReview. A pod is never blocked by the injector itself: when injection cannot apply
 * (opted out, hostNetwork, malformed) the pod is admitted unchanged with a warning `kubectl` shows the user.
 */
export function review(body: unknown, opts: InjectOptions = DEFAULT_OPTIONS): AdmissionReviewOut {
  if (!isObject(body) || body.kind !== "AdmissionReview") throw new AdmissionError('body must be an AdmissionReview ({"kind":"AdmissionReview",...})');
  if (body.apiVersion !== ADMISSION_API_VERSION) throw new AdmissionError(`AdmissionReview apiVersion must be ${ADMISSION_API_VERSION} (got ${JSON.stringify(body.apiVersion)}); list only v1 in admissionReviewVersions`);
  const req = body.request;
  if (!isObject(req) || typeof req.uid !== "string" || !req.uid) throw new AdmissionError("request.uid is required");
  const out = (response: Omit<AdmissionResponse, "uid">): AdmissionReviewOut => ({ apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response: { uid: req.uid as string, ...response } });

  const pod = req.object;
  if (req.operation !== undefined && req.operation !== "CREATE") return out({ allowed: true });
  if (!isObject(pod) || pod.kind !== "Pod") return out({ allowed: true, warnings: [`outrigger: not injected: the webhook only mutates Pods (got ${String(isObject(pod) ? pod.kind : typeof pod)})`] });
  const namespace = typeof req.namespace === "string" && req.namespace ? req.namespace : opts.namespace;
  let result;
  try {
    result = injectObject(pod as K8sObject, { ...opts, namespace });
  } catch (err) {
    return out({ allowed: true, warnings: [`outrigger: not injected: ${(err as Error).message}`] });
  }
  if (!result.changed) return out({ allowed: true, ...(result.status === "injected" ? {} : { warnings: [`outrigger: not injected: ${result.reason}`] }) });
  const patch = fastJsonPatch.compare(pod, result.object);
  return out({ allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") });
}
