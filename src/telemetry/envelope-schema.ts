// The app envelope, version 1: the small JSON message an app sends its sidecar (POST /v1/envelope) for custom
// telemetry now and control queries later. Declared once with TypeBox: the TS type, the validator and the
// published JSON Schema (docs/envelope.schema.json, checked equal to envelopeJsonSchema() by a test) all come
// from here. Regenerate the file with:
//   node -e 'import("./dist/src/telemetry/envelope-schema.js").then(m=>console.log(JSON.stringify(m.envelopeJsonSchema(),null,2)))' > docs/envelope.schema.json
import { Type, type Static } from "@sinclair/typebox";

const AttributeValue = Type.Union([
  Type.String({ maxLength: 4096 }),
  Type.Number(),
  Type.Boolean(),
  Type.Array(Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]), { maxItems: 128 }),
]);

export const ENVELOPE_KINDS = ["event", "metric", "span", "log", "control"] as const;

export const Envelope = Type.Object(
  {
    v: Type.Literal(1, { description: "Envelope version. Only 1 exists; anything else is rejected." }),
    kind: Type.Union(
      ENVELOPE_KINDS.map((k) => Type.Literal(k)),
      { description: "event: a span event on the request's span; metric: an app metric; span: a child span; log: a log line tied to the trace; control: a query to the sidecar (e.g. route explain)." },
    ),
    traceId: Type.Optional(Type.String({ pattern: "^[0-9a-f]{32}$", description: "W3C trace id (from the traceparent the app received)." })),
    spanId: Type.Optional(Type.String({ pattern: "^[0-9a-f]{16}$", description: "The parent span id (from the traceparent the app received)." })),
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "x-request-id of the request being handled; correlates with its live span." })),
    ts: Type.Optional(Type.Union([Type.Number({ minimum: 0, description: "epoch milliseconds" }), Type.String({ format: "date-time", maxLength: 64 })], { description: "When it happened; default: when received." })),
    status: Type.Optional(Type.Union([Type.Literal("ok"), Type.Literal("error"), Type.Literal("unset")])),
    name: Type.String({ minLength: 1, maxLength: 256, description: "Event, metric or span name; the message of a log." }),
    attributes: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 256 }), AttributeValue, {
        description: "Free-form attributes. Any key is accepted, so apps can add keys without a schema change.",
        maxProperties: 64,
      }),
    ),
    value: Type.Optional(Type.Number({ description: "metric: the value (counter increment, gauge value or histogram observation)." })),
    metricType: Type.Optional(Type.Union([Type.Literal("counter"), Type.Literal("gauge"), Type.Literal("histogram")], { description: "metric: default counter." })),
    durationMs: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: "span: how long it took (ends at ts + durationMs)." })),
    severity: Type.Optional(Type.Union(["debug", "info", "warn", "error"].map((s) => Type.Literal(s)), { description: "log: default info." })),
    query: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "control: the query's parameters (kind-specific)." })),
  },
  { additionalProperties: false, $id: "https://outrigger.dev/schema/envelope-v1.json", title: "Outrigger app envelope v1" },
);
export type Envelope = Static<typeof Envelope>;

/** One envelope or a batch of up to 100. */
export const EnvelopeRequest = Type.Union([Envelope, Type.Array(Envelope, { minItems: 1, maxItems: 100 })]);
export const MAX_BATCH = 100;

export function envelopeJsonSchema(): object {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://outrigger.dev/schema/envelope.json",
    title: "Outrigger app envelope (POST /v1/envelope): one envelope or a batch of up to 100",
    oneOf: [{ $ref: "#/definitions/envelope" }, { type: "array", minItems: 1, maxItems: MAX_BATCH, items: { $ref: "#/definitions/envelope" } }],
    definitions: { envelope: (({ $id: _id, ...rest }) => rest)(JSON.parse(JSON.stringify(Envelope)) as Record<string, unknown>) },
  };
}
