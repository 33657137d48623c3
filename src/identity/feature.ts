// Security feature: authorization policies on the inbound admit slot (mTLS lives in the listeners and pools).
import { Counter } from "prom-client";
import type { FeatureFactory } from "../sidecar/feature.js";
import { authorize } from "./authz.js";

export const securityFeature: FeatureFactory = (ctx) => {
  const decisions = new Counter({
    name: "outrigger_authz_decisions_total",
    help: "Authorization decisions on inbound requests (allow, deny, dry_run_deny, rejected_path) by deciding policy.",
    labelNames: ["decision", "policy"] as const,
    registers: [ctx.metrics.registry],
  });
  return {
    name: "security",
    admit: (plan, direction) => (direction === "inbound" && plan.security.authz ? [authorize(plan.security.authz, { logger: ctx.logger, decisions })] : []),
  };
};
