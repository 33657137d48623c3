// Security feature: authorization on the inbound admit slot; with a workload identity, the inbound listener
// speaks mTLS (permissive or strict) and upstream connections to mTLS backends present the workload certificate.
import { Counter, Gauge } from "prom-client";
import type { FeatureFactory } from "../sidecar/feature.js";
import { authorize } from "./authz.js";
import { WorkloadIdentity } from "./workload.js";
import { mtlsListener } from "./mtls-listener.js";
import { mtlsConnector } from "./connector.js";
import { guardAdmin } from "./admin-guard.js";
import { SecretFile } from "./secrets.js";

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
  const adminTokenFile = first.resources.find((r) => r.kind === "Sidecar")?.spec as { adminTokenFile?: string } | undefined;
  let adminToken: SecretFile | undefined;
  const common = {
    name: "security",
    admit: (plan: typeof first, direction: "inbound" | "outbound") => (direction === "inbound" && plan.security.authz ? [authorize(plan.security.authz, { logger: ctx.logger, decisions })] : []),
    admin: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => guardAdmin(req, res, ctx.plan().sidecar.admin?.host, adminToken),
    startAdmin: async () => {
      if (adminTokenFile?.adminTokenFile) adminToken = await new SecretFile(adminTokenFile.adminTokenFile, { onChange: () => ctx.logger.info({ event: "admin.token_reloaded" }, "admin token file changed") }).start();
    },
  };
  if (!idPlan) return { name: common.name, admit: common.admit, admin: common.admin, start: common.startAdmin, close: async () => adminToken?.close() };

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
    name: common.name,
    admit: common.admit,
    admin: common.admin,
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
    start: async () => {
      await common.startAdmin();
      await identity.start();
    },
    close: async () => {
      adminToken?.close();
      await identity.close();
    },
  };
};
