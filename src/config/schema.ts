// THE schema: every resource kind, declared once with TypeBox, which yields both the TS types and JSON Schema.
// The sidecar's file config, `outrigger validate` and the control plane all validate through this module.
import { type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { API_VERSION } from "./kinds/common.js";
import { SidecarResource } from "./kinds/sidecar.js";
import { BackendResource } from "./kinds/backend.js";
import { RouteResource } from "./kinds/route.js";
import { MeshResource } from "./kinds/mesh.js";
import { EXTRA_KINDS } from "./kinds/index.js";

export { API_VERSION };

/** Every kind, by name. Kinds added by later features register in kinds/index.ts. */
export const KINDS = {
  Sidecar: SidecarResource,
  Backend: BackendResource,
  Route: RouteResource,
  Mesh: MeshResource,
  ...EXTRA_KINDS,
} as const;

export type KindName = keyof typeof KINDS;
export type ResourceOf<K extends KindName> = Static<(typeof KINDS)[K]>;
export type AnyResource = { [K in KindName]: ResourceOf<K> }[KindName];

const compiled = new Map<string, TypeCheck<TSchema>>();
export function checkerFor(kind: string): TypeCheck<TSchema> | undefined {
  const schema = (KINDS as Record<string, TSchema>)[kind];
  if (!schema) return undefined;
  let c = compiled.get(kind);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(kind, c);
  }
  return c;
}

export const isKind = (k: unknown): k is KindName => typeof k === "string" && Object.hasOwn(KINDS, k);

/** The JSON Schema for editors (`outrigger schema`, committed as schema/outrigger.schema.json). */
export function jsonSchema(): object {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://outrigger.dev/schema/v1alpha1.json",
    title: "Outrigger resource",
    oneOf: Object.values(KINDS).map((s) => JSON.parse(JSON.stringify(s))),
  };
}
