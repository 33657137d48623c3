// measure policy (observe slot, after trace): RED metrics per request, recorded once when the response ends.
// Label values come from the Exchange notes the route/forward policies leave; per label set the metric
// children are resolved once and cached (bounded by LabelSets), so a request costs a map lookup and a few adds.
import type { Exchange, Policy } from "../sidecar/chain.js";
import type { MetricsRegistry } from "./registry.js";
import { LabelSets } from "./label-sets.js";

/** Set by the outbound sidecar so the inbound one can label its metrics with the calling service. */
export const PEER_SERVICE_HEADER = "x-outrigger-peer-service";
export const OVERFLOW = "__overflow__";
export const UNKNOWN = "unknown";

type Direction = "inbound" | "outbound";

interface Series {
  req: Record<string, string>;
  dur: Record<string, string>;
  size: Record<string, string>;
}

/** State shared across plan swaps: the bounded label sets and in-flight gauges. */
export class RequestMetrics {
  readonly sets: LabelSets<Series>;
  readonly inflight: Record<Direction, { inc(): void; dec(): void }>;

  constructor(readonly metrics: MetricsRegistry, cap: number) {
    this.sets = new LabelSets<Series>(cap, (key, overflow) => series(overflow ? OVERFLOW_KEY : key), () => metrics.labelOverflow.inc({ metric: "outrigger_requests_total" }));
    this.inflight = { inbound: metrics.inflight.labels({ direction: "inbound" }), outbound: metrics.inflight.labels({ direction: "outbound" }) };
  }
}

const SEP = "\u0001";
const OVERFLOW_KEY = Array(8).fill(OVERFLOW).join(SEP);

function series(key: string): Series {
  const [direction, peer_service, route, method, code, klass, subset, error_code] = key.split(SEP) as string[];
  return {
    req: { direction: direction!, peer_service: peer_service!, route: route!, method: method!, code: code!, class: klass!, subset: subset!, error_code: error_code! },
    dur: { direction: direction!, peer_service: peer_service!, route: route!, method: method!, class: klass!, subset: subset! },
    size: { direction: direction!, peer_service: peer_service!, route: route! },
  };
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
const CLASSES = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

/** The calling service on inbound: the SPIFFE identity's service account when mTLS verified it, else the header. */
export function inboundPeer(ex: Exchange): string {
  const id = ex.peer.identity;
  if (id) {
    const sa = id.lastIndexOf("/sa/");
    if (sa >= 0) return id.slice(sa + 4);
  }
  const h = ex.headers[PEER_SERVICE_HEADER];
  return typeof h === "string" && h.length <= 63 ? h : UNKNOWN;
}

export interface MeasureOptions {
  direction: Direction;
  service: string;
  /** Route ids the current plan knows; anything else is reported as "unknown". */
  knownRoutes: ReadonlySet<string>;
  /** Trace id of a sampled span for exemplars (set by the trace policy). */
  traceIdOf?: (ex: Exchange) => string | undefined;
}

export const measure = (state: RequestMetrics, o: MeasureOptions): Policy => {
  const { metrics, sets } = state;
  const inflight = state.inflight[o.direction];
  const outbound = o.direction === "outbound";
  return (ex, next) => {
    inflight.inc();
    let peer: string;
    if (outbound) {
      ex.headers[PEER_SERVICE_HEADER] = o.service;
      peer = "";
    } else {
      peer = inboundPeer(ex);
      delete ex.headers[PEER_SERVICE_HEADER];
    }
    ex.onEnd((out) => {
      inflight.dec();
      const n = ex.notes;
      const route = n.route !== undefined && o.knownRoutes.has(n.route) ? n.route : UNKNOWN;
      const status = out.status;
      const klass = CLASSES[(status / 100) | 0] ?? "0xx";
      const code = n.errorCode ?? (out.aborted ? "CLIENT_CLOSED" : "");
      const method = METHODS.has(ex.method) ? ex.method : "OTHER";
      const key = `${o.direction}${SEP}${outbound ? (n.backend ?? UNKNOWN) : peer}${SEP}${route}${SEP}${method}${SEP}${status}${SEP}${klass}${SEP}${n.subset ?? ""}${SEP}${code}`;
      const s = sets.get(key);
      const traceId = o.traceIdOf?.(ex);
      if (traceId) {
        // prom-client types exemplar labels as the metric's own labels; at runtime any label set is accepted.
        const exemplarLabels = { trace_id: traceId } as never;
        metrics.requests.inc({ labels: s.req, value: 1, exemplarLabels });
        metrics.duration.observe({ labels: s.dur, value: out.durationSeconds, exemplarLabels });
      } else {
        metrics.requests.inc({ labels: s.req, value: 1 });
        metrics.duration.observe({ labels: s.dur, value: out.durationSeconds });
      }
      metrics.requestBytes.observe(s.size, out.bytesIn);
      metrics.responseBytes.observe(s.size, out.bytesOut);
    });
    return next(ex);
  };
};
