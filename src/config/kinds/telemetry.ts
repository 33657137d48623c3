// TelemetryPolicy: which signals a sidecar emits, how much (sampling, budget) and where they go (OTLP export).
// Every field here can change by config reload without a restart; absent fields fall back to OTEL_* env vars.
import { Type, type Static } from "@sinclair/typebox";
import { Duration, Resource, Strict } from "./common.js";

const Ratio = Type.Number({ minimum: 0, maximum: 1 });
const HeaderName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" });

export const SamplerSpec = Strict({
  type: Type.Union([Type.Literal("always"), Type.Literal("never"), Type.Literal("ratio"), Type.Literal("parent-ratio"), Type.Literal("rate-limited")], {
    description: "always | never | ratio (by trace id, same decision in every sidecar) | parent-ratio (follow the caller, ratio for roots) | rate-limited (N traces/s).",
  }),
  ratio: Type.Optional(Ratio),
  perSecond: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
});

export const TelemetrySpec = Strict({
  metrics: Type.Optional(
    Strict({
      enabled: Type.Optional(Type.Boolean()),
      /** Label sets per metric before new ones collapse into the overflow set. */
      maxLabelSets: Type.Optional(Type.Integer({ minimum: 10, maximum: 100000 })),
      otlp: Type.Optional(Strict({ enabled: Type.Optional(Type.Boolean()), interval: Type.Optional(Duration) })),
    }),
  ),
  tracing: Type.Optional(
    Strict({
      enabled: Type.Optional(Type.Boolean()),
      sampler: Type.Optional(SamplerSpec),
      routes: Type.Optional(Type.Array(Strict({ route: Type.String({ minLength: 1, maxLength: 253 }), ratio: Ratio }), { maxItems: 1000 })),
      keep: Type.Optional(
        Strict({
          errors: Type.Optional(Type.Boolean()),
          slowerThan: Type.Optional(Duration),
          maxPending: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
        }),
      ),
    }),
  ),
  export: Type.Optional(
    Strict({
      endpoint: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048, description: "OTLP/HTTP base URL, e.g. http://127.0.0.1:4318" })),
      headers: Type.Optional(Type.Record(HeaderName, Type.String({ maxLength: 4096 }))),
      token: Type.Optional(Type.String({ maxLength: 4096, description: "Bearer token for the collector." })),
      tokenFile: Type.Optional(Type.String({ maxLength: 4096 })),
      compression: Type.Optional(Type.Union([Type.Literal("gzip"), Type.Literal("none")])),
      tls: Type.Optional(Strict({ caFile: Type.Optional(Type.String()), certFile: Type.Optional(Type.String()), keyFile: Type.Optional(Type.String()) })),
      batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
      queueSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })),
      interval: Type.Optional(Duration),
      timeout: Type.Optional(Duration),
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    }),
  ),
  logs: Type.Optional(
    Strict({
      level: Type.Optional(Type.Union(["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)))),
      access: Type.Optional(
        Strict({
          enabled: Type.Optional(Type.Boolean()),
          sampleRatio: Type.Optional(Ratio),
          includeQuery: Type.Optional(Type.Boolean()),
          headers: Type.Optional(Type.Array(HeaderName, { maxItems: 64, description: "Request headers to include in each line." })),
        }),
      ),
      redactHeaders: Type.Optional(Type.Array(HeaderName, { maxItems: 64 })),
    }),
  ),
  budget: Type.Optional(
    Strict({
      spansPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
      logLinesPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
      exportBytesPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
    }),
  ),
});
export type TelemetrySpec = Static<typeof TelemetrySpec>;
export const TelemetryPolicyResource = Resource("TelemetryPolicy", TelemetrySpec, "Metrics, tracing, sampling, export, logs and the telemetry budget of a sidecar.");
