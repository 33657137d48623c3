// Kinds contributed by features beyond the data plane (traffic, security, telemetry policies).
// Each feature adds its resource here; schema.ts merges them into KINDS.
import { TelemetryPolicyResource } from "./telemetry.js";
import { AuthorizationPolicyResource } from "./authorization-policy.js";

export const EXTRA_KINDS = {
  TelemetryPolicy: TelemetryPolicyResource,
  AuthorizationPolicy: AuthorizationPolicyResource,
} as const;
