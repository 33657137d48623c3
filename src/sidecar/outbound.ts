// The outbound chain: requests from the local app to other services. The order here IS the request path.
// Later policies (telemetry, limits, faults, timeouts, retries, circuit breaking) slot in at the marked places.
import type { Plan } from "../config/compile.js";
import { compose, type Next, type Policy } from "./chain.js";
import { outboundRoute } from "./policies/route.js";
import { forward } from "./policies/forward.js";
import type { Upstreams } from "./upstream/pools.js";

export interface ChainDeps {
  upstreams: Upstreams;
  /** Policies contributed by features, by slot; each is built once per plan. */
  extensions?: ChainExtensions;
}

export interface ChainExtensions {
  /** Outermost: tracing and metrics observe everything below, including errors. */
  observe?: (plan: Plan, direction: "inbound" | "outbound") => Policy[];
  /** After the route is chosen: authz, rate limits, concurrency, faults, filters. */
  admit?: (plan: Plan, direction: "inbound" | "outbound") => Policy[];
  /** Around each upstream attempt: timeouts, retries, circuit breaking, mirroring. */
  resilience?: (plan: Plan, direction: "inbound" | "outbound") => Policy[];
}

export function outboundChain(plan: Plan, deps: ChainDeps): Next {
  const x = deps.extensions ?? {};
  return compose(
    [
      ...(x.observe?.(plan, "outbound") ?? []), // trace + measure + access log
      outboundRoute(plan), // rule -> backendRef (weighted split)
      ...(x.admit?.(plan, "outbound") ?? []), // rate limit, concurrency, fault, filters
      ...(x.resilience?.(plan, "outbound") ?? []), // timeout, retry, circuit, mirror
    ],
    forward(deps.upstreams), // endpoint pick + undici pool
  );
}
