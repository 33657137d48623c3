// Security feature: authorization policies on the admit slot (mTLS lives in the listeners and pools).
import type { FeatureFactory } from "../sidecar/feature.js";

export const securityFeature: FeatureFactory = () => ({
  name: "security",
  admit: () => [],
});
