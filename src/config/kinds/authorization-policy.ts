// AuthorizationPolicy: who may call a service (source SPIFFE identity, path, method, headers); Istio's model.
import { Type, type Static } from "@sinclair/typebox";
import { Resource, Strict } from "./common.js";

const Names = (description: string, max = 64) => Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: max, description }));

export const AuthorizationRule = Strict(
  {
    identities: Names("Caller SPIFFE IDs: spiffe://td/ns/N/sa/S, ns/N/sa/S, with * for a segment (ns/prod/sa/*), or * for any authenticated caller."),
    notIdentities: Names("Matches when the caller is none of these (or has no identity)."),
    paths: Names("Normalized paths: exact (/admin), prefix (/admin/*), suffix (*.json) or * for any."),
    notPaths: Names("Matches when the path is none of these."),
    methods: Type.Optional(Type.Array(Type.String({ pattern: "^[A-Z]{1,16}$" }), { maxItems: 16 })),
    headers: Type.Optional(
      Type.Array(
        Strict({
          name: Type.String({ minLength: 1, maxLength: 256 }),
          values: Type.Array(Type.String({ maxLength: 4096 }), { minItems: 1, maxItems: 64, description: "Exact, prefix* or *suffix." }),
        }),
        { maxItems: 16 },
      ),
    ),
  },
  { description: "Every field given must match (AND); within a field, any entry (OR). An empty rule matches every request." },
);

export const AuthorizationPolicySpec = Strict({
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: "The service whose inbound requests this governs; every service when absent." })),
  action: Type.Optional(Type.Union([Type.Literal("ALLOW"), Type.Literal("DENY")], { description: "ALLOW (default) or DENY. Deny wins; once any ALLOW policy applies, unmatched requests are denied." })),
  dryRun: Type.Optional(Type.Boolean({ description: "Log and count what this policy would deny; block nothing." })),
  rules: Type.Array(AuthorizationRule, { maxItems: 256 }),
});
export type AuthorizationPolicySpec = Static<typeof AuthorizationPolicySpec>;
export type AuthorizationRule = Static<typeof AuthorizationRule>;
export const AuthorizationPolicyResource = Resource("AuthorizationPolicy", AuthorizationPolicySpec, "Who may call a service: allow and deny rules on caller identity, path, method and headers.");
