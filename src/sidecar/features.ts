// The features every sidecar runs, in chain order within each slot. Each feature lives in its own module.
import type { FeatureFactory } from "./feature.js";
import { telemetryFeature } from "../telemetry/feature.js";
import { trafficFeature } from "./policies/feature.js";
import { securityFeature } from "../identity/feature.js";
import { controlPlaneFeature } from "../control-plane/client/feature.js";

export const FEATURES: FeatureFactory[] = [
  telemetryFeature, // observe: trace, measure, access log
  controlPlaneFeature, // admit: fail-closed gate when the control plane is gone (first: nothing else should run)
  securityFeature, // admit: authorization (before limits, so denied callers spend no quota)
  trafficFeature, // admit: rate limit, concurrency, fault, filters; resilience: timeout, retry, circuit, mirror
];
