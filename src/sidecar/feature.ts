// The seam between the core proxy and the features layered on it (telemetry, traffic control, security,
// control-plane client). A feature contributes policies to fixed slots of both chains, keeps state that
// survives plan swaps, and may add admin endpoints. The core never imports a feature directly.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Plan } from "../config/compile.js";
import type { Direction, Policy } from "./chain.js";
import type { UpstreamConnector, Upstreams } from "./upstream/pools.js";
import type { ListenerServerFactory } from "./listener.js";
import type { MetricsRegistry } from "../telemetry/registry.js";

export interface FeatureContext {
  logger: Logger;
  metrics: MetricsRegistry;
  upstreams: Upstreams;
  /** The plan in force right now. */
  plan(): Plan;
  /** Ask the sidecar to install a new plan (the control-plane client uses this). Throws ConfigError when invalid. */
  apply?(plan: Plan): void;
}

export interface Feature {
  readonly name: string;
  /** Outermost slot: tracing, metrics, access logs. */
  observe?(plan: Plan, direction: Direction): Policy[];
  /** After routing: authz, rate limits, concurrency, faults, filters. */
  admit?(plan: Plan, direction: Direction): Policy[];
  /** Around the upstream attempt: timeouts, retries, circuit breaking, mirroring. */
  resilience?(plan: Plan, direction: Direction): Policy[];
  /** Called with each new plan before its chains are built; state that must survive reloads lives in the feature. */
  onPlan?(plan: Plan, previous: Plan | undefined): void;
  /** Builds a listener's server (the identity feature's mTLS listener); the first feature that returns one wins. */
  listenerServer?(direction: Direction): ListenerServerFactory | undefined;
  /** How upstream connections are made (mTLS to peer sidecars); the first feature that returns one wins. */
  upstreamConnector?(): UpstreamConnector | undefined;
  /** Extra admin endpoints; return true when the request was handled. */
  admin?(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
  /** Extra readiness detail for /readyz (and whether it makes the sidecar unready). */
  readiness?(): { ready: boolean; detail: Record<string, unknown> };
  /** Called when draining starts, before listeners stop accepting (e.g. deregister from the registry). Bounded by the sidecar. */
  drain?(): Promise<void>;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

export type FeatureFactory = (ctx: FeatureContext) => Feature;
