// access-log policy (observe slot, after measure): one JSON line per request when its response ends —
// time, trace/span/request ids, method, path (query dropped unless configured), status, duration, bytes,
// route, backend, upstream address, error code. Sampled (ratio) and capped by the log-lines budget; both, and
// on/off, change at runtime (config reload or POST /logging) through the shared settings object.
import type { Logger } from "pino";
import type { Exchange, Policy } from "../sidecar/chain.js";
import type { TelemetryPlan } from "../config/compile/telemetry.js";
import type { TelemetryBudget } from "./budget.js";
import type { MetricsRegistry } from "./registry.js";
import { traceOf } from "./tracing.js";
import { ALWAYS_REDACTED } from "./logger.js";

export type AccessSettings = TelemetryPlan["logs"]["access"] & { redact: ReadonlySet<string> };

/** Mutable per sidecar: a reload or the admin endpoint replaces `current`; policies read it per request. */
export class AccessLogSettings {
  current: AccessSettings;
  constructor(plan: TelemetryPlan["logs"]) {
    this.current = AccessLogSettings.from(plan);
  }
  static from(plan: TelemetryPlan["logs"]): AccessSettings {
    return { ...plan.access, redact: new Set([...ALWAYS_REDACTED, ...plan.redactHeaders]) };
  }
}

export const accessLog = (settings: AccessLogSettings, logger: Logger, budget: TelemetryBudget, metrics: MetricsRegistry, direction: "inbound" | "outbound"): Policy => {
  const dropped = metrics.telemetryDropped.labels({ signal: "logs", reason: "budget" });
  return (ex, next) => {
    const s = settings.current;
    if (s.enabled && (s.sampleRatio >= 1 || Math.random() < s.sampleRatio))
      ex.onEnd((o) => {
        if (!budget.logLines.take()) return dropped.inc();
        const sc = traceOf(ex)?.span?.spanContext();
        const n = ex.notes;
        const line: Record<string, unknown> = {
          log: "access",
          direction,
          trace_id: sc?.traceId,
          span_id: sc?.spanId,
          request_id: ex.requestId,
          method: ex.method,
          authority: ex.authority,
          path: s.includeQuery ? ex.path : pathOnly(ex),
          status: o.status,
          duration_ms: Math.round(o.durationSeconds * 1e6) / 1e3,
          bytes_in: o.bytesIn,
          bytes_out: o.bytesOut,
          route: n.route,
          backend: n.backend,
          subset: n.subset,
          upstream: n.endpoint,
          retries: n.retries,
          error_code: n.errorCode ?? (o.aborted ? "CLIENT_CLOSED" : undefined),
          peer: ex.peer.address,
        };
        if (s.headers.length) line.headers = pickHeaders(ex, s);
        logger.info(line);
      });
    return next(ex);
  };
};

const pathOnly = (ex: Exchange) => {
  const q = ex.path.indexOf("?");
  return q < 0 ? ex.path : ex.path.slice(0, q);
};

function pickHeaders(ex: Exchange, s: AccessSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of s.headers) {
    const v = ex.headers[h];
    if (v === undefined) continue;
    out[h] = s.redact.has(h) ? "[redacted]" : Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}
