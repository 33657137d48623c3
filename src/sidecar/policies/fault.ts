// Fault injection: delays (fixed or uniform in a range) and aborts, each with a percentage, per route and
// direction, optionally only for requests carrying a header. Every injected fault lands in ex.notes.fault
// (spans, access logs) and in outrigger_faults_injected_total.
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultPlan } from "../../config/compile/traffic.js";
import type { CompiledRule } from "../../config/compile/routes.js";
import { MeshError } from "../../errors.js";
import type { Exchange, Policy } from "../chain.js";
import type { Counter } from "prom-client";

export const headerOf = (ex: Exchange) => (name: string) => {
  const v = ex.headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(",") : v;
};

export function selects(p: { select: FaultPlan["select"] }, ex: Exchange): boolean {
  const rule = ex.notes.ruleRef as CompiledRule | undefined;
  return p.select(rule?.routeName, rule?.id ?? (ex.notes.route as string | undefined), ex.target?.backend);
}

export const fault = (faults: readonly FaultPlan[], injected: Counter<"direction" | "policy" | "type">, random: () => number = Math.random): Policy => async (ex, next) => {
  for (const f of faults) {
    if (!selects(f, ex) || (f.match && !f.match(headerOf(ex)))) continue;
    if (f.delay && random() < f.delay.fraction) {
      const ms = Math.round(f.delay.minMs + (f.delay.maxMs - f.delay.minMs) * random());
      ex.notes.fault = `delay=${ms}ms`;
      injected.inc({ direction: ex.direction, policy: f.name, type: "delay" });
      await sleep(ms, undefined, { signal: ex.signal });
    }
    if (f.abort && random() < f.abort.fraction) {
      ex.notes.fault = ex.notes.fault ? `${ex.notes.fault},abort=${f.abort.status}` : `abort=${f.abort.status}`;
      injected.inc({ direction: ex.direction, policy: f.name, type: "abort" });
      throw new MeshError("FAULT_INJECTED", `FaultPolicy "${f.name}" aborted with ${f.abort.status}.`, { status: f.abort.status });
    }
  }
  return next(ex);
};
