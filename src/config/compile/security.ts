// Security resources -> the security part of the Plan, compiled once per config version.
import type { AnyResource } from "../schema.js";
import type { ConfigIssue } from "../load.js";

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SecurityPlan {}

export function compileSecurity(_resources: readonly AnyResource[], _fail: (path: string, message: string) => void): SecurityPlan {
  return {};
}

export type { ConfigIssue };
