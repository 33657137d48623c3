// Kinds contributed by features beyond the data plane (traffic, security, telemetry policies).
// Each feature adds its resource here; schema.ts merges them into KINDS.
import { TelemetryPolicyResource } from "./telemetry.js";
import { AuthorizationPolicyResource } from "./authorization-policy.js";
import { RateLimitPolicyResource } from "./rate-limit.js";
import { FaultPolicyResource } from "./fault.js";
import { BackendPolicyResource } from "./backend-policy.js";
import { ConcurrencyPolicyResource } from "./concurrency.js";

export const EXTRA_KINDS = {
  TelemetryPolicy: TelemetryPolicyResource,
  AuthorizationPolicy: AuthorizationPolicyResource,
  RateLimitPolicy: RateLimitPolicyResource,
  FaultPolicy: FaultPolicyResource,
  BackendPolicy: BackendPolicyResource,
  ConcurrencyPolicy: ConcurrencyPolicyResource,
} as const;
