// Kinds contributed by features beyond the data plane (traffic, security, telemetry policies).
// Each feature adds its resource here; schema.ts merges them into KINDS.
export const EXTRA_KINDS = {} as const;
