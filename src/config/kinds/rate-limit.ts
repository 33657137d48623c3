// RateLimitPolicy: token bucket, leaky bucket or sliding window, keyed by client identity, header, IP or route,
// kept locally (bounded LRU) or shared through Redis with a per-policy behaviour for when Redis is down.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, HostPort, Resource, Strict } from "./common.js";
import { Direction, TargetRefs } from "./policy.js";

export const RateLimitKeyPart = Strict({
  type: Type.Union([Type.Literal("ClientIdentity"), Type.Literal("Header"), Type.Literal("ClientIP"), Type.Literal("Route")], {
    description: "ClientIdentity: the mTLS peer identity, else the header named by `name` (default x-client-id).",
  }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});

export const RateLimitSpec = Strict({
  direction: Type.Optional(Direction),
  targetRefs: Type.Optional(TargetRefs),
  algorithm: Type.Optional(Type.Union([Type.Literal("TokenBucket"), Type.Literal("LeakyBucket"), Type.Literal("SlidingWindow")])),
  limit: Strict({ requests: Type.Integer({ minimum: 1, maximum: 100000000 }), per: Duration }),
  burst: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100000000, description: "TokenBucket: bucket size (default: requests). LeakyBucket: how many requests may queue (default: 1% of requests, at least 1)." }),
  ),
  key: Type.Optional(Type.Array(RateLimitKeyPart, { maxItems: 8, description: "Parts joined into the limiter key; none means one shared bucket." })),
  overrides: Type.Optional(
    Type.Array(Strict({ value: Type.String({ maxLength: 1024, description: "The key value (parts joined with |)." }), requests: Type.Integer({ minimum: 0 }), per: Type.Optional(Duration) }), { maxItems: 1024 }),
  ),
  store: Type.Optional(Type.Union([Type.Literal("Local"), Type.Literal("Redis")])),
  maxKeys: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000000, description: "Local store: LRU bound on tracked keys (default 10000)." })),
  redis: Type.Optional(
    Strict({
      address: HostPort,
      keyPrefix: Type.Optional(Type.String({ maxLength: 128 })),
      commandTimeout: Type.Optional(Duration),
      onFailure: Type.Optional(Type.Union([Type.Literal("FailOpen"), Type.Literal("FailClosed"), Type.Literal("LocalFallback")])),
      sidecars: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: "LocalFallback divides the limit by this many sidecars." })),
    }),
  ),
});
export type RateLimitSpec = Static<typeof RateLimitSpec>;
export const RateLimitPolicyResource = Resource("RateLimitPolicy", RateLimitSpec, "Limits request rates per key, locally or through Redis.");
