// Backend resources -> endpoint sets with subsets resolved by label, built once per config.
import type { BackendSpec } from "../kinds/backend.js";
import { durationOr, parseAddress, type Address } from "../units.js";

export type LoadBalancer = "RoundRobin" | "LeastRequest" | "EWMA";

export interface EndpointPlan extends Address {
  labels: Readonly<Record<string, string>>;
}

export interface BackendPlan {
  name: string;
  endpoints: EndpointPlan[];
  /** Subset name -> endpoints whose labels match. Version labels also form implicit subsets (v1, v2). */
  subsets: ReadonlyMap<string, EndpointPlan[]>;
  loadBalancer: LoadBalancer;
  baseEjectionMs: number;
  maxEjectionMs: number;
  mtls: boolean;
}

export function compileBackend(name: string, spec: BackendSpec): BackendPlan {
  const endpoints: EndpointPlan[] = spec.endpoints.map((e) => ({ ...parseAddress(e.address), labels: e.labels ?? {} }));
  const subsets = new Map<string, EndpointPlan[]>();
  const matches = (ep: EndpointPlan, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => ep.labels[k] === v);
  // Implicit subsets by version label, so `subset: v2` works without declaring it.
  for (const ep of endpoints) {
    const v = ep.labels.version;
    if (v) subsets.set(v, [...(subsets.get(v) ?? []), ep]);
  }
  for (const s of spec.subsets ?? []) subsets.set(s.name, endpoints.filter((ep) => matches(ep, s.labels)));
  return {
    name,
    endpoints,
    subsets,
    loadBalancer: spec.loadBalancer ?? "EWMA",
    baseEjectionMs: durationOr(spec.passiveHealth?.baseEjectionTime, 1000),
    maxEjectionMs: durationOr(spec.passiveHealth?.maxEjectionTime, 30_000),
    mtls: spec.tls?.mode === "mutual",
  };
}
