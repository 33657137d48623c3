// Mesh: mesh-wide defaults (mTLS mode, control-plane loss behaviour, propagation, telemetry budget).
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";

export const MeshSpec = Strict({
  trustDomain: Type.Optional(Type.String({ maxLength: 253 })),
  mtls: Type.Optional(Strict({ mode: Type.Union([Type.Literal("disable"), Type.Literal("permissive"), Type.Literal("strict")]) })),
  authorization: Type.Optional(
    Strict({
      pathCase: Type.Optional(Type.Union([Type.Literal("insensitive"), Type.Literal("sensitive")], { description: "How policy paths match request paths; insensitive by default." })),
      escapedSlashes: Type.Optional(Type.Union([Type.Literal("reject"), Type.Literal("keep")], { description: "Requests whose path holds %2F or %5C: rejected with 400 (default) or matched with them kept encoded." })),
    }),
  ),
  controlPlaneLoss: Type.Optional(Type.Union([Type.Literal("keep-last"), Type.Literal("fail-closed")])),
  controlPlaneGracePeriod: Type.Optional(Duration),
  propagation: Type.Optional(Type.Array(Type.Union([Type.Literal("tracecontext"), Type.Literal("b3"), Type.Literal("b3multi")]))),
});
export type MeshSpec = Static<typeof MeshSpec>;
export const MeshResource = Resource("Mesh", MeshSpec, "Mesh-wide defaults.");
