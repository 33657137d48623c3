// The inbound chain: requests from the mesh into the local app. The order here IS the request path.
import type { Plan } from "../config/compile.js";
import { compose, type Next } from "./chain.js";
import { inboundRoute } from "./policies/route.js";
import { forward } from "./policies/forward.js";
import type { ChainDeps } from "./outbound.js";

export function inboundChain(plan: Plan, deps: ChainDeps): Next {
  const x = deps.extensions ?? {};
  return compose(
    [
      ...(x.observe?.(plan, "inbound") ?? []), // trace (server span) + measure + access log
      inboundRoute(plan), // target: the app; inbound rules for filters
      ...(x.admit?.(plan, "inbound") ?? []), // authz, rate limit, concurrency/shedding, fault
      ...(x.resilience?.(plan, "inbound") ?? []), // timeout, retry
    ],
    forward(deps.upstreams), // the app's pool
  );
}
