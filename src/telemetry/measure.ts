// measure policy: counts every request by direction/service/route/method/code when its response ends.
import type { Policy } from "../sidecar/chain.js";
import type { MetricsRegistry } from "./registry.js";

export const measure = (metrics: MetricsRegistry, service: string, direction: "inbound" | "outbound"): Policy => (ex, next) => {
  ex.onEnd((o) => {
    metrics.requests.inc({ direction, service, route: ex.notes.route ?? "unknown", method: ex.method, code: String(o.status) });
  });
  return next(ex);
};
