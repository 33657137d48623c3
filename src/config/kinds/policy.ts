// Building blocks shared by traffic policy kinds: which direction and which routes/backends a policy attaches to
// (Gateway API policy attachment: targetRefs with kind, name and an optional sectionName for one rule).
import { Type } from "@sinclair/typebox";
import { Strict } from "./common.js";

export const Direction = Type.Union([Type.Literal("inbound"), Type.Literal("outbound")], {
  description: "inbound (requests into this service's app) or outbound (this app's calls to other services).",
});

export const TargetRef = Strict({
  kind: Type.Union([Type.Literal("Route"), Type.Literal("Backend")]),
  name: Type.String({ minLength: 1, maxLength: 253 }),
  sectionName: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: "A rule name (or index) of the Route." })),
});

export const TargetRefs = Type.Array(TargetRef, { maxItems: 64, description: "What the policy applies to; empty or absent means every route in its direction." });

export const Percent = Type.Number({ minimum: 0, maximum: 100 });

export const HeaderCondition = Strict({
  type: Type.Optional(Type.Union([Type.Literal("Exact"), Type.Literal("RegularExpression"), Type.Literal("Present")])),
  name: Type.String({ minLength: 1, maxLength: 256 }),
  value: Type.Optional(Type.String({ maxLength: 4096 })),
});
