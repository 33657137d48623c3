// Building blocks shared by every resource kind: strict objects (unknown fields are errors), durations, addresses.
import { Type, type TSchema, type TProperties, type TObject } from "@sinclair/typebox";

export const API_VERSION = "outrigger.dev/v1alpha1";

/** An object schema that rejects unknown fields, so typos surface as errors with "did you mean". */
export const Strict = <T extends TProperties>(props: T, opts: { description?: string } = {}): TObject<T> =>
  Type.Object(props, { additionalProperties: false, ...opts });

export const Duration = Type.String({
  pattern: "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
  description: "A duration such as 250ms, 2s, 1.5m or 1h.",
});

/** host:port, [v6]:port or a bare port (which means 127.0.0.1). */
export const HostPort = Type.Union(
  [
    Type.String({ pattern: "^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9_.-]+)?:?[0-9]{1,5}$", description: "HOST:PORT, [IPv6]:PORT or PORT (loopback)." }),
    Type.Integer({ minimum: 0, maximum: 65535, description: "A port on loopback." }),
  ],
  { description: "HOST:PORT, [IPv6]:PORT or PORT (loopback)." },
);

export const Labels = Type.Record(Type.String({ pattern: "^[A-Za-z0-9_./-]{1,63}$" }), Type.String({ maxLength: 253 }));

export const Metadata = Strict({
  name: Type.String({ pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253, description: "DNS-style name." }),
  namespace: Type.Optional(Type.String({ pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 })),
  labels: Type.Optional(Labels),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/** A resource in Kubernetes shape. */
export const Resource = <K extends string, S extends TSchema>(kind: K, spec: S, description: string) =>
  Strict(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal(kind),
      metadata: Metadata,
      spec,
    },
    { description },
  );
