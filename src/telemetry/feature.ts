// Telemetry feature: observes both chains (RED metrics now; tracing, access logs, export grow here).
import type { FeatureFactory } from "../sidecar/feature.js";
import { measure } from "./measure.js";

export const telemetryFeature: FeatureFactory = (ctx) => ({
  name: "telemetry",
  observe: (plan, direction) => [measure(ctx.metrics, plan.sidecar.service, direction)],
});
