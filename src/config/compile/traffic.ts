// Traffic resources -> the traffic part of the Plan, compiled once per config version.
import type { AnyResource } from "../schema.js";
import type { ConfigIssue } from "../load.js";

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TrafficPlan {}

export function compileTraffic(_resources: readonly AnyResource[], _fail: (path: string, message: string) => void): TrafficPlan {
  return {};
}

export type { ConfigIssue };
