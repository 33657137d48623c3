// Traffic-control feature: admission (rate limits, concurrency, faults, filters) and resilience
// (timeouts, retries, circuit breaking, mirroring) policies, each in its own module beside this one.
import type { FeatureFactory } from "../feature.js";

export const trafficFeature: FeatureFactory = () => ({
  name: "traffic",
  admit: () => [],
  resilience: () => [],
});
