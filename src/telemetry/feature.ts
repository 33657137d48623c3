// Telemetry feature: the observe slot of both chains (trace -> measure -> access log), the saturation gauges,
// and the admin endpoints /metrics. State that must outlive a config reload (label sets, gauges) lives here;
// each new plan only changes what is switched on and at what rate.
import type { Plan } from "../config/compile.js";
import type { FeatureFactory } from "../sidecar/feature.js";
import type { Policy } from "../sidecar/chain.js";
import { measure, RequestMetrics } from "./measure.js";
import { registerSaturation } from "./saturation.js";
import { metricsEndpoint } from "./scrape.js";
import { TelemetryBudget } from "./budget.js";
import { SpanExport } from "./export.js";
import { Tracing, sampledTraceId } from "./tracing.js";
import { accessLog, AccessLogSettings } from "./access-log.js";
import { loggingEndpoint } from "./logging-admin.js";
import { EnvelopeServer } from "../sidecar/envelope.js";
import { MetricsPush } from "./metrics-push.js";
import { envelopeHandlers, LiveSpans } from "./envelope-signals.js";

/** Route ids a plan can produce: the metric `route` label never takes any other value. */
export function knownRoutes(plan: Plan): Set<string> {
  const ids = new Set<string>(["inbound/default"]);
  for (const r of plan.outbound.rules) ids.add(r.id);
  for (const r of plan.inbound.rules) ids.add(r.id);
  for (const b of plan.backends.keys()) ids.add(`${b}/default`);
  return ids;
}

export const telemetryFeature: FeatureFactory = (ctx) => {
  const requestMetrics = new RequestMetrics(ctx.metrics, ctx.plan().telemetry.metrics.maxLabelSets);
  registerSaturation(ctx.metrics.registry, ctx.upstreams, ctx.plan);
  const scrape = metricsEndpoint(ctx.metrics.registry);
  const first = ctx.plan();
  const budget = new TelemetryBudget(first.telemetry.budget);
  const spanExport = new SpanExport(ctx.metrics, budget, ctx.logger);
  spanExport.configure(first.telemetry.export);
  const tracing = new Tracing(first, ctx.metrics, budget, spanExport);
  const metricsPush = new MetricsPush(ctx.metrics, spanExport.transport, budget, ctx.logger);
  metricsPush.configure(first);
  const access = new AccessLogSettings(first.telemetry.logs);
  // Access lines follow the access-log switch, not the process log level (which a reload or POST /logging sets).
  const accessLogger = ctx.logger.child({}, { level: ctx.logger.level === "silent" ? "silent" : "info" });
  if (first.telemetry.logs.level) ctx.logger.level = first.telemetry.logs.level;
  let envelope: EnvelopeServer | undefined;
  if (first.sidecar.envelope) {
    tracing.live = new LiveSpans(() => ctx.metrics.telemetryDropped.inc({ signal: "correlation", reason: "live_full" }));
    envelope = new EnvelopeServer({ plan: ctx.plan, logger: ctx.logger });
    const h = envelopeHandlers({ tracing, live: tracing.live, metrics: ctx.metrics, budget, logger: accessLogger.child({}, { level: "debug" }) });
    for (const [kind, handler] of Object.entries(h)) envelope.on(kind, handler);
  }
  let routes: { plan: Plan; ids: Set<string> } | undefined;
  const routesOf = (plan: Plan) => (routes?.plan === plan ? routes.ids : (routes = { plan, ids: knownRoutes(plan) }).ids);

  return {
    name: "telemetry",
    onPlan(plan, previous) {
      requestMetrics.sets.resize(plan.telemetry.metrics.maxLabelSets);
      if (!previous) return;
      const logs = plan.telemetry.logs;
      const was = previous.telemetry.logs;
      if (logs.level && logs.level !== was.level) ctx.logger.level = logs.level;
      if (JSON.stringify(logs.access) !== JSON.stringify(was.access) || logs.redactHeaders.join() !== was.redactHeaders.join()) access.current = AccessLogSettings.from(logs);
      budget.configure(plan.telemetry.budget);
      spanExport.configure(plan.telemetry.export);
      tracing.configure(plan);
      metricsPush.configure(plan);
    },
    observe(plan, direction): Policy[] {
      const t = plan.telemetry;
      const out: Policy[] = [];
      if (t.tracing.enabled) out.push(tracing.traceStart(direction));
      if (t.metrics.enabled) out.push(measure(requestMetrics, { direction, service: plan.sidecar.service, knownRoutes: routesOf(plan), traceIdOf: sampledTraceId }));
      out.push(accessLog(access, accessLogger, budget, ctx.metrics, direction));
      return out;
    },
    admit(plan, direction): Policy[] {
      return plan.telemetry.tracing.enabled ? [tracing.traceRoute(direction)] : [];
    },
    async start() {
      const p = ctx.plan();
      const t = p.telemetry;
      if (envelope && p.sidecar.envelope) {
        const at = await envelope.listen(p.sidecar.envelope);
        ctx.logger.info({ event: "envelope.listening", address: at.key }, "app envelope listening");
      }
      ctx.logger.info({ event: "telemetry.started", tracing: t.tracing.enabled, sampler: t.tracing.sampler, export: t.export.tracesUrl ?? null, metrics: t.metrics.enabled, accessLog: t.logs.access }, "telemetry started");
    },
    async close() {
      metricsPush.close();
      await envelope?.close();
      await spanExport.close();
    },
    async admin(req, res, url) {
      if (req.method === "GET" && url.pathname === "/metrics") {
        await scrape(req, res);
        return true;
      }
      if (url.pathname === "/logging") {
        await loggingEndpoint(req, res, { logger: ctx.logger, access });
        return true;
      }
      return false;
    },
  };
};
