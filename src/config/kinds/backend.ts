// Backend: a service's endpoints, subsets by label, load balancing and passive health.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, HostPort, Labels, Resource, Strict } from "./common.js";

export const Endpoint = Strict({
  address: HostPort,
  labels: Type.Optional(Labels),
});

export const BackendSpec = Strict({
  endpoints: Type.Array(Endpoint, { maxItems: 10000 }),
  subsets: Type.Optional(
    Type.Array(Strict({ name: Type.String({ minLength: 1, maxLength: 63 }), labels: Labels }), { maxItems: 64 }),
  ),
  loadBalancer: Type.Optional(
    Type.Union([Type.Literal("RoundRobin"), Type.Literal("LeastRequest"), Type.Literal("EWMA")], {
      description: "RoundRobin, or power-of-two-choices on LeastRequest / EWMA latency.",
    }),
  ),
  tls: Type.Optional(
    Strict({
      mode: Type.Union([Type.Literal("disable"), Type.Literal("mutual")], { description: "mutual: mTLS to the backend's sidecars; default follows Mesh.spec.mtls.mode (strict -> mutual)." }),
      identities: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 32, description: "SPIFFE IDs the backend may present (patterns as in AuthorizationPolicy); default ns/<namespace>/sa/<backend name>." })),
    }),
  ),
  passiveHealth: Type.Optional(
    Strict({
      baseEjectionTime: Type.Optional(Duration),
      maxEjectionTime: Type.Optional(Duration),
    }),
  ),
});
export type BackendSpec = Static<typeof BackendSpec>;
export const BackendResource = Resource("Backend", BackendSpec, "A service's endpoints and how to balance over them.");
