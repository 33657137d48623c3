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
