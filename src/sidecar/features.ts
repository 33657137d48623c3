// The features every sidecar runs, in chain order within each slot. Each feature lives in its own module.
import type { FeatureFactory } from "./feature.js";
import { telemetryFeature } from "../telemetry/feature.js";
import { trafficFeature } from "./policies/feature.js";
import { securityFeature } from "../identity/feature.js";

export const FEATURES: FeatureFactory[] = [
  telemetryFeature, // observe: trace, measure, access log
  securityFeature, // admit: authorization (before limits, so denied callers spend no quota)
  trafficFeature, // admit: rate limit, concurrency, fault, filters; resilience: timeout, retry, circuit, mirror
];
