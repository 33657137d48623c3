// Security feature: authorization on the inbound admit slot; with a workload identity, the inbound listener
// speaks mTLS (permissive or strict) and upstream connections to mTLS backends present the workload certificate.
import { Counter, Gauge } from "prom-client";
import type { FeatureFactory } from "../sidecar/feature.js";
import { authorize } from "./authz.js";
import { WorkloadIdentity } from "./workload.js";
import { mtlsListener } from "./mtls-listener.js";
import { mtlsConnector } from "./connector.js";

export const securityFeature: FeatureFactory = (ctx) => {
  const registers = [ctx.metrics.registry];
  const decisions = new Counter({
    name: "outrigger_authz_decisions_total",
    help: "Authorization decisions on inbound requests (allow, deny, dry_run_deny, rejected_path) by deciding policy.",
    labelNames: ["decision", "policy"] as const,
    registers,
  });
  const first = ctx.plan();
  const idPlan = first.security.identity;
  if (!idPlan) return { name: "security", admit: (plan, direction) => (direction === "inbound" && plan.security.authz ? [authorize(plan.security.authz, { logger: ctx.logger, decisions })] : []) };

  const connections = new Counter({ name: "outrigger_inbound_connections_total", help: "Inbound connections by transport result (mtls, plaintext, rejected_plaintext, rejected_identity, handshake_failed).", labelNames: ["result"] as const, registers });
  const renewals = new Counter({ name: "outrigger_workload_certificate_renewals_total", help: "Workload certificate requests by result.", labelNames: ["result"] as const, registers });
  const identity = new WorkloadIdentity(idPlan, { logger: ctx.logger, onRenewal: (r) => renewals.inc({ result: r }) });
  new Gauge({
    name: "outrigger_workload_certificate_expiry_seconds",
    help: "Seconds until the workload certificate expires.",
    registers,
    collect() {
      const m = identity.current();
      this.set(m ? (m.notAfter - Date.now()) / 1000 : 0);
    },
  });
  const handshakeLog = { last: 0 };
  return {
    name: "security",
    admit: (plan, direction) => (direction === "inbound" && plan.security.authz ? [authorize(plan.security.authz, { logger: ctx.logger, decisions })] : []),
    listenerServer: (direction) =>
      direction === "inbound"
        ? mtlsListener({
            identity,
            mode: () => ctx.plan().security.mtlsMode,
            trustDomain: () => ctx.plan().security.trustDomain,
            onConnection: (result, detail) => {
              connections.inc({ result });
              // Rejections are logged at most once a second: a scanner must not flood the log.
              if (result !== "mtls" && result !== "plaintext" && Date.now() - handshakeLog.last > 1000) {
                handshakeLog.last = Date.now();
                ctx.logger.warn({ event: "mtls.rejected", result, detail }, "inbound connection rejected");
              }
            },
          })
        : undefined,
    upstreamConnector: () => mtlsConnector(identity, ctx.plan, first.sidecar.limits.connectTimeoutMs),
    readiness: () => {
      const s = identity.status();
      return { ready: s.ready, detail: s };
    },
    start: () => identity.start(),
    close: () => identity.close(),
  };
};
