// Telemetry resources -> the telemetry part of the Plan, compiled once per config version.
import type { AnyResource } from "../schema.js";
import type { ConfigIssue } from "../load.js";

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TelemetryPlan {}

export function compileTelemetry(_resources: readonly AnyResource[], _fail: (path: string, message: string) => void): TelemetryPlan {
  return {};
}

export type { ConfigIssue };
