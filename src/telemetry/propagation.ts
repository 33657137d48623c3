// Trace-context propagation on the mesh's formats: W3C traceparent/tracestate and B3 (single and multi header),
// selectable per mesh (Mesh.spec.propagation). Extraction tries each configured format in order; injection
// writes every configured format after removing any stale trace headers the request arrived with.
//
// W3C behaviour is @opentelemetry/core's W3CTraceContextPropagator, checked against the spec
// (test/telemetry/propagation.test.ts): version ff, version 00 with trailing data, upper-case hex, wrong
// lengths and all-zero ids are rejected (a new trace starts); a future version is parsed by its first four
// fields when what follows the flags starts with "-"; tracestate is dropped when traceparent is invalid,
// invalid list-members are discarded, and at most 32 members (512 chars) are kept.
import { ROOT_CONTEXT, trace, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { B3InjectEncoding, B3Propagator } from "@opentelemetry/propagator-b3";
import type { HeaderMap } from "../sidecar/chain.js";

export type PropagationFormat = "tracecontext" | "b3" | "b3multi";

const getter: TextMapGetter<HeaderMap> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k],
};
const setter: TextMapSetter<HeaderMap> = {
  set: (c, k, v) => {
    c[k.toLowerCase()] = v;
  },
};

const STALE = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"];

const PROPAGATORS: Record<PropagationFormat, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
};

export class Propagation {
  private readonly propagators: TextMapPropagator[];

  constructor(readonly formats: readonly PropagationFormat[] = ["tracecontext"]) {
    this.propagators = (formats.length ? formats : ["tracecontext" as const]).map((f) => PROPAGATORS[f]());
  }

  /** The caller's span context (remote), or the root context when no configured format parses. */
  extract(headers: HeaderMap): Context {
    for (const p of this.propagators) {
      const ctx = p.extract(ROOT_CONTEXT, headers, getter);
      if (trace.getSpanContext(ctx)) return ctx;
    }
    return ROOT_CONTEXT;
  }

  inject(ctx: Context, headers: HeaderMap): void {
    for (const h of STALE) if (headers[h] !== undefined) delete headers[h];
    for (const p of this.propagators) p.inject(ctx, headers, setter);
  }
}
