// Offline Kubernetes validation for tests: each object is checked against the OpenAPI schema of its
// apiVersion/kind as bundled by kubernetes-models (required fields, types, enums). Only GA API versions are
// listed, so a manifest on a deprecated or removed version (policy/v1beta1, ...) fails here.
import * as admissionV1 from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as coreV1 from "kubernetes-models/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { fileURLToPath } from "node:url";

type Model = new (data: any) => { validate(): void };
const GROUPS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  "apps/v1": appsV1,
  "batch/v1": batchV1,
  "policy/v1": policyV1,
  "rbac.authorization.k8s.io/v1": rbacV1,
  "networking.k8s.io/v1": networkingV1,
  "admissionregistration.k8s.io/v1": admissionV1,
};

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Returns schema errors for one object ([] when valid). */
export function k8sSchemaErrors(obj: any): string[] {
  const where = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  if (typeof obj?.apiVersion !== "string" || typeof obj?.kind !== "string") return [`${where}: apiVersion and kind are required`];
  const group = GROUPS[obj.apiVersion];
  if (!group) return [`${where}: apiVersion ${obj.apiVersion} is not a GA version in the bundled schema (${Object.keys(GROUPS).join(", ")})`];
  const model = group[obj.kind] as Model | undefined;
  if (typeof model !== "function") return [`${where}: kind ${obj.kind} does not exist in ${obj.apiVersion}`];
  if (obj.kind !== "List" && !obj.metadata?.name) return [`${where}: metadata.name is required`];
  try {
    new model(obj).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}
