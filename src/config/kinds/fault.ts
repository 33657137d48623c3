// FaultPolicy: injected delays and aborts for chaos testing, per route and direction, optionally only for
// requests that carry a header (x-outrigger-fault, a tenant, an experiment flag).
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";
import { Direction, HeaderCondition, Percent, TargetRefs } from "./policy.js";

export const FaultSpec = Strict({
  direction: Type.Optional(Direction),
  targetRefs: Type.Optional(TargetRefs),
  match: Type.Optional(Strict({ headers: Type.Array(HeaderCondition, { minItems: 1, maxItems: 16 }) })),
  delay: Type.Optional(
    Strict({
      fixed: Type.Optional(Duration),
      min: Type.Optional(Duration),
      max: Type.Optional(Duration),
      percent: Type.Optional(Percent),
    }),
  ),
  abort: Type.Optional(Strict({ status: Type.Integer({ minimum: 200, maximum: 599 }), percent: Type.Optional(Percent) })),
});
export type FaultSpec = Static<typeof FaultSpec>;
export const FaultPolicyResource = Resource("FaultPolicy", FaultSpec, "Injects delays and aborts into matching requests.");
