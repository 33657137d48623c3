// ConcurrencyPolicy: caps in-flight requests per route or backend, and sheds load adaptively when the app
// strains (latency gradient) or the sidecar's event loop lags. Health checks are never shed.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";
import { Direction, TargetRefs } from "./policy.js";

export const ConcurrencySpec = Strict({
  direction: Type.Optional(Direction),
  targetRefs: Type.Optional(TargetRefs),
  maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })),
  adaptive: Type.Optional(
    Strict({
      type: Type.Union([Type.Literal("LatencyGradient"), Type.Literal("EventLoopLag")]),
      maxEventLoopLag: Type.Optional(Duration),
      minLimit: Type.Optional(Type.Integer({ minimum: 1 })),
      maxLimit: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
  retryAfter: Type.Optional(Duration),
  healthPaths: Type.Optional(Type.Array(Type.String({ pattern: "^/" }), { maxItems: 32 })),
});
export type ConcurrencySpec = Static<typeof ConcurrencySpec>;
export const ConcurrencyPolicyResource = Resource("ConcurrencyPolicy", ConcurrencySpec, "Concurrency limits and adaptive load shedding.");
