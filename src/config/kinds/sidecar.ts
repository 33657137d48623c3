// Sidecar: one proxy's own listeners, its app, and the limits that protect it from hostile input.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, HostPort, Labels, Resource, Strict } from "./common.js";

export const SidecarSpec = Strict({
  service: Type.String({ minLength: 1, maxLength: 63, description: "The service this sidecar fronts." }),
  version: Type.Optional(Type.String({ maxLength: 63 })),
  namespace: Type.Optional(Type.String({ maxLength: 63 })),
  environment: Type.Optional(Type.String({ maxLength: 63 })),
  labels: Type.Optional(Labels),
  app: HostPort,
  inbound: Type.Optional(HostPort),
  outbound: Type.Optional(HostPort),
  admin: Type.Optional(HostPort),
  adminTokenFile: Type.Optional(Type.String({ minLength: 1, description: "Bearer token (file, re-read on change) required by the admin port's mutating endpoints when it is not bound to loopback." })),
  identity: Type.Optional(
    Strict(
      {
        issuer: Type.Optional(Type.String({ pattern: "^https?://", description: "Control plane URL that issues workload certificates (POST /v1/certificates)." })),
        tokenFile: Type.Optional(Type.String({ minLength: 1, description: "File holding the bootstrap token (re-read when it changes)." })),
        caFile: Type.Optional(Type.String({ minLength: 1, description: "Trust bundle (PEM) for the control plane and peer sidecars." })),
        certFile: Type.Optional(Type.String({ minLength: 1, description: "Static alternative to issuer: certificate chain (PEM), watched." })),
        keyFile: Type.Optional(Type.String({ minLength: 1, description: "Static alternative to issuer: private key (PEM), watched." })),
      },
      { description: "Where this sidecar's workload certificate comes from: an issuer (CSR + token) or files." },
    ),
  ),
  controlPlane: Type.Optional(
    Strict(
      {
        urls: Type.Array(Type.String({ pattern: "^https?://", maxLength: 2048 }), { minItems: 1, maxItems: 8, description: "Control-plane replicas, tried in order on failure." }),
        tokenFile: Type.Optional(Type.String({ minLength: 1, description: "File holding this sidecar's bearer token (role sidecar)." })),
        lastKnownGood: Type.Optional(Type.String({ minLength: 1, description: "Where the last applied config is kept for restarts without the control plane." })),
        instance: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "Instance id in the registry (default: host-pid)." })),
        advertise: Type.Optional(HostPort),
        heartbeat: Type.Optional(Duration),
      },
      { description: "Receive mesh-wide config from the control plane and register this instance." },
    ),
  ),
  envelope: Type.Optional(HostPort),
  limits: Type.Optional(
    Strict({
      maxHeaderBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1048576 })),
      maxHeaderCount: Type.Optional(Type.Integer({ minimum: 8, maximum: 1000 })),
      maxUriBytes: Type.Optional(Type.Integer({ minimum: 256, maximum: 1048576 })),
      connectTimeout: Type.Optional(Duration),
      headersTimeout: Type.Optional(Duration),
      idleTimeout: Type.Optional(Duration),
      requestTimeout: Type.Optional(Duration),
      drainTimeout: Type.Optional(Duration),
      maxConnectionsPerEndpoint: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    }),
  ),
});
export type SidecarSpec = Static<typeof SidecarSpec>;
export const SidecarResource = Resource("Sidecar", SidecarSpec, "A sidecar's listeners, app address and limits.");
