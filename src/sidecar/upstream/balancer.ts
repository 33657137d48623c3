// Load balancing over an endpoint set: round robin, or power-of-two-choices on in-flight count or EWMA latency.
import type { LoadBalancer } from "../../config/compile/backends.js";
import type { EndpointState } from "./endpoint-state.js";

export interface Balancer {
  pick(states: readonly EndpointState[], now: number): EndpointState | undefined;
}

export function createBalancer(kind: LoadBalancer): Balancer {
  if (kind === "RoundRobin") return roundRobin();
  return powerOfTwo(kind === "EWMA" ? (s) => s.score() : (s) => s.inflight);
}

function roundRobin(): Balancer {
  let cursor = 0;
  return {
    pick(states, now) {
      const n = states.length;
      for (let i = 0; i < n; i++) {
        const s = states[(cursor + i) % n]!;
        if (s.isAvailable(now)) {
          cursor = (cursor + i + 1) % n;
          return s;
        }
      }
      return undefined;
    },
  };
}

function powerOfTwo(cost: (s: EndpointState) => number): Balancer {
  return {
    pick(states, now) {
      const n = states.length;
      if (n === 1) return states[0]!.isAvailable(now) ? states[0] : undefined;
      const a = states[(Math.random() * n) | 0]!;
      let b = states[(Math.random() * n) | 0]!;
      if (b === a) b = states[(states.indexOf(a) + 1) % n]!;
      const aOk = a.isAvailable(now);
      const bOk = b.isAvailable(now);
      if (aOk && bOk) return cost(a) <= cost(b) ? a : b;
      if (aOk) return a;
      if (bOk) return b;
      // Both samples ejected: fall back to a scan so one healthy endpoint is still found.
      let best: EndpointState | undefined;
      for (const s of states) if (s.isAvailable(now) && (!best || cost(s) < cost(best))) best = s;
      return best;
    },
  };
}
