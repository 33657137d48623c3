// BackendPolicy: how this sidecar protects a backend (Envoy cluster circuit breakers + outlier detection):
// connection/pending/active limits, consecutive-error ejection of endpoints and a half-open circuit breaker.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";
import { Percent } from "./policy.js";

export const BackendPolicySpec = Strict({
  targetRefs: Type.Array(Strict({ kind: Type.Literal("Backend"), name: Type.String({ minLength: 1 }) }), { minItems: 1, maxItems: 64 }),
  connectionPool: Type.Optional(
    Strict({
      maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000, description: "Requests sent at once (one per connection)." })),
      maxPendingRequests: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000, description: "Requests queued waiting for a connection." })),
      maxRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000, description: "Active plus pending requests." })),
    }),
  ),
  outlierDetection: Type.Optional(
    Strict({
      consecutive5xx: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      consecutiveGatewayErrors: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      baseEjectionTime: Type.Optional(Duration),
      maxEjectionTime: Type.Optional(Duration),
      maxEjectionPercent: Type.Optional(Percent),
    }),
  ),
  circuitBreaker: Type.Optional(
    Strict({
      consecutiveFailures: Type.Integer({ minimum: 1, maximum: 1000 }),
      openTime: Type.Optional(Duration),
      maxOpenTime: Type.Optional(Duration),
      halfOpenRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    }),
  ),
});
export type BackendPolicySpec = Static<typeof BackendPolicySpec>;
export const BackendPolicyResource = Resource("BackendPolicy", BackendPolicySpec, "Circuit breaking, connection limits and outlier detection for backends.");
