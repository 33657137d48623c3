// Route: Gateway API HTTPRoute fields (matches, filters, backendRefs, timeouts) plus retry.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";

const Method = Type.Union(
  ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"].map((m) => Type.Literal(m)),
);

export const PathMatch = Strict({
  type: Type.Optional(Type.Union([Type.Literal("Exact"), Type.Literal("PathPrefix"), Type.Literal("RegularExpression")])),
  value: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const HeaderMatch = Strict({
  type: Type.Optional(Type.Union([Type.Literal("Exact"), Type.Literal("RegularExpression"), Type.Literal("Present")])),
  name: Type.String({ minLength: 1, maxLength: 256 }),
  value: Type.Optional(Type.String({ maxLength: 4096 })),
});

export const RouteMatch = Strict({
  path: Type.Optional(PathMatch),
  method: Type.Optional(Method),
  headers: Type.Optional(Type.Array(HeaderMatch, { maxItems: 16 })),
  queryParams: Type.Optional(Type.Array(HeaderMatch, { maxItems: 16 })),
});

export const HeaderModifier = Strict({
  set: Type.Optional(Type.Array(Strict({ name: Type.String(), value: Type.String() }))),
  add: Type.Optional(Type.Array(Strict({ name: Type.String(), value: Type.String() }))),
  remove: Type.Optional(Type.Array(Type.String())),
});

export const RouteFilter = Strict({
  type: Type.Union([
    Type.Literal("RequestHeaderModifier"),
    Type.Literal("ResponseHeaderModifier"),
    Type.Literal("URLRewrite"),
    Type.Literal("RequestRedirect"),
    Type.Literal("RequestMirror"),
    Type.Literal("DirectResponse"),
  ]),
  requestHeaderModifier: Type.Optional(HeaderModifier),
  responseHeaderModifier: Type.Optional(HeaderModifier),
  urlRewrite: Type.Optional(
    Strict({
      hostname: Type.Optional(Type.String()),
      path: Type.Optional(
        Strict({
          type: Type.Union([Type.Literal("ReplacePrefixMatch"), Type.Literal("ReplaceFullPath")]),
          replacePrefixMatch: Type.Optional(Type.String()),
          replaceFullPath: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
  requestRedirect: Type.Optional(
    Strict({
      scheme: Type.Optional(Type.Union([Type.Literal("http"), Type.Literal("https")])),
      hostname: Type.Optional(Type.String()),
      path: Type.Optional(Type.String()),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      statusCode: Type.Optional(Type.Union([Type.Literal(301), Type.Literal(302), Type.Literal(303), Type.Literal(307), Type.Literal(308)])),
    }),
  ),
  requestMirror: Type.Optional(
    Strict({
      backendRef: Strict({ name: Type.String(), subset: Type.Optional(Type.String()) }),
      percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
      maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: "Mirrored requests in flight at once (default 32); more are dropped and counted." })),
      maxBodyBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 16777216, description: "Larger request bodies are not mirrored (default 64 KiB)." })),
    }),
  ),
  directResponse: Type.Optional(
    Strict({ status: Type.Integer({ minimum: 200, maximum: 599 }), body: Type.Optional(Type.String({ maxLength: 65536 })) }),
  ),
});

export const BackendRef = Strict({
  name: Type.String({ minLength: 1 }),
  subset: Type.Optional(Type.String()),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
});

export const RouteRule = Strict({
  name: Type.Optional(Type.String({ pattern: "^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$", maxLength: 63 })),
  matches: Type.Optional(Type.Array(RouteMatch, { maxItems: 64 })),
  filters: Type.Optional(Type.Array(RouteFilter, { maxItems: 16 })),
  backendRefs: Type.Optional(Type.Array(BackendRef, { maxItems: 64 })),
  sessionAffinity: Type.Optional(
    Strict({ header: Type.Optional(Type.String()), cookie: Type.Optional(Type.String()) }, { description: "Sticky split: hash of a header or cookie picks the backendRef." }),
  ),
  timeouts: Type.Optional(Strict({ request: Type.Optional(Duration), backendRequest: Type.Optional(Duration) })),
  retry: Type.Optional(
    Strict({
      attempts: Type.Integer({ minimum: 0, maximum: 10 }),
      on: Type.Optional(Type.Array(Type.String({ pattern: "^(connect-failure|reset|[1-5][0-9][0-9]|5xx|gateway-error)$" }))),
      backoff: Type.Optional(Strict({ base: Type.Optional(Duration), max: Type.Optional(Duration) })),
      budget: Type.Optional(Strict({ ratio: Type.Number({ minimum: 0, maximum: 10 }), minPerSecond: Type.Optional(Type.Integer({ minimum: 0 })) })),
      maxBufferedBodyBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 16777216 })),
      maxRetryAfter: Type.Optional(Duration),
    }),
  ),
});

export const RouteSpec = Strict({
  hosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 64 }),
  direction: Type.Optional(Type.Union([Type.Literal("outbound"), Type.Literal("inbound")], { description: "Where the route applies; outbound by default." })),
  rules: Type.Array(RouteRule, { minItems: 1, maxItems: 1024 }),
});
export type RouteSpec = Static<typeof RouteSpec>;
export type RouteRule = Static<typeof RouteRule>;
export const RouteResource = Resource("Route", RouteSpec, "How requests for some hosts are matched and sent to backends.");
