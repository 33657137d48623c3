// The sidecar process: listeners, the current plan (swapped atomically), admin port and lifecycle/drain.
import type { Logger } from "pino";
import type { Plan } from "../config/compile.js";
import type { Address } from "../config/units.js";
import { MeshError } from "../errors.js";
import type { Next } from "./chain.js";
import { Listener } from "./listener.js";
import { inboundChain } from "./inbound.js";
import { outboundChain, type ChainExtensions } from "./outbound.js";
import { Upstreams } from "./upstream/pools.js";
import { AdminServer } from "./admin.js";
import { createRegistry, type MetricsRegistry } from "../telemetry/registry.js";
import type { Feature, FeatureContext, FeatureFactory } from "./feature.js";
import { FEATURES } from "./features.js";
import { findCandidate, pickRef } from "./policies/route.js";

export interface SidecarOptions {
  logger: Logger;
  /** Features to run; defaults to FEATURES (telemetry, security, traffic). */
  features?: FeatureFactory[];
}

export interface BoundAddresses {
  inbound?: Address;
  outbound?: Address;
  admin?: Address;
}

type State = "starting" | "ready" | "draining" | "stopped";

export class Sidecar {
  private plan: Plan;
  private chains: { inbound: Next; outbound: Next };
  private state: State = "starting";
  readonly upstreams: Upstreams;
  readonly metrics: MetricsRegistry;
  private readonly listeners: Listener[] = [];
  private admin: AdminServer | undefined;
  readonly features: Feature[];
  bound: BoundAddresses = {};
  readonly startedAt = Date.now();

  constructor(plan: Plan, private readonly opts: SidecarOptions) {
    this.plan = plan;
    const l = plan.sidecar.limits;
    this.upstreams = new Upstreams({ connections: l.maxConnectionsPerEndpoint, connectTimeoutMs: l.connectTimeoutMs, headersTimeoutMs: l.headersTimeoutMs, bodyTimeoutMs: l.idleTimeoutMs });
    this.upstreams.sync(plan);
    this.metrics = createRegistry(plan.sidecar.service);
    const ctx: FeatureContext = { logger: opts.logger, metrics: this.metrics, upstreams: this.upstreams, plan: () => this.plan, apply: (p) => this.swap(p) };
    this.features = (opts.features ?? FEATURES).map((f) => f(ctx));
    for (const f of this.features) f.onPlan?.(plan, undefined);
    const connector = this.features.map((f) => f.upstreamConnector?.()).find(Boolean);
    if (connector) this.upstreams.useConnector(connector);
    this.chains = this.buildChains(plan);
  }

  get currentPlan(): Plan {
    return this.plan;
  }

  get ready(): boolean {
    return this.state === "ready";
  }

  get draining(): boolean {
    return this.state === "draining" || this.state === "stopped";
  }

  /** Installs a new plan: chains are rebuilt first, then swapped in one assignment. */
  swap(plan: Plan): void {
    const previous = this.plan;
    for (const f of this.features) f.onPlan?.(plan, previous);
    const chains = this.buildChains(plan);
    this.upstreams.sync(plan);
    this.plan = plan;
    this.chains = chains;
    this.metrics.configReloads.inc({ result: "applied" });
    this.opts.logger.info({ event: "config.applied", version: plan.version }, "config applied");
  }

  rejectConfig(err: unknown): void {
    this.metrics.configReloads.inc({ result: "rejected" });
    this.opts.logger.error({ event: "config.rejected", err: (err as Error).message, version: this.plan.version }, "new config rejected; keeping the current one");
  }

  async start(): Promise<BoundAddresses> {
    const s = this.plan.sidecar;
    const hooks = (direction: "inbound" | "outbound") => ({
      chain: () => this.chains[direction],
      limits: () => this.plan.sidecar.limits,
      isDraining: () => this.draining,
      tunnel: async (ex: import("./chain.js").Exchange) => this.resolveTunnel(direction, ex),
      onError: (err: unknown) => {
        if (!(err instanceof MeshError)) this.opts.logger.error({ err }, "unexpected error in request path");
      },
    });
    for (const f of this.features) await f.start?.();
    if (s.admin) {
      this.admin = new AdminServer(this);
      this.bound.admin = await this.admin.listen(s.admin);
    }
    if (s.inbound) {
      const l = new Listener("inbound", hooks("inbound"), this.listenerServer("inbound"));
      this.listeners.push(l);
      this.bound.inbound = await l.listen(s.inbound);
    }
    if (s.outbound) {
      const l = new Listener("outbound", hooks("outbound"), this.listenerServer("outbound"));
      this.listeners.push(l);
      this.bound.outbound = await l.listen(s.outbound);
    }
    this.state = "ready";
    this.opts.logger.info({ event: "sidecar.ready", service: s.service, ...Object.fromEntries(Object.entries(this.bound).map(([k, v]) => [k, v?.key])), startupMs: Date.now() - this.startedAt }, "sidecar ready");
    return this.bound;
  }

  get inflight(): number {
    return this.listeners.reduce((n, l) => n + l.active, 0);
  }

  /** Graceful drain: readyz turns 503, listeners stop accepting, in-flight requests finish (bounded). */
  async drain(): Promise<boolean> {
    if (this.state === "draining" || this.state === "stopped") return true;
    this.state = "draining";
    this.opts.logger.info({ event: "sidecar.draining", inflight: this.inflight }, "draining");
    // Features first (a registered instance deregisters so peers stop sending), bounded so drain always proceeds.
    await Promise.race([Promise.allSettled(this.features.map((f) => f.drain?.())), new Promise((r) => setTimeout(r, 2_000).unref())]);
    const results = await Promise.all(this.listeners.map((l) => l.drain(this.plan.sidecar.limits.drainTimeoutMs)));
    return results.every(Boolean);
  }

  async close(): Promise<void> {
    const clean = await this.drain();
    for (const l of this.listeners) l.destroyAll();
    this.state = "stopped";
    await this.upstreams.close();
    for (const f of this.features) await f.close?.().catch(() => {});
    await this.admin?.close();
    this.opts.logger.info({ event: "sidecar.stopped", clean }, "stopped");
  }

  private listenerServer(direction: "inbound" | "outbound") {
    return this.features.map((f) => f.listenerServer?.(direction)).find(Boolean);
  }

  private buildChains(plan: Plan) {
    const slot = (name: "observe" | "admit" | "resilience") => (p: Plan, d: "inbound" | "outbound") => this.features.flatMap((f) => f[name]?.(p, d) ?? []);
    const extensions: ChainExtensions = { observe: slot("observe"), admit: slot("admit"), resilience: slot("resilience") };
    const deps = { upstreams: this.upstreams, extensions };
    return { inbound: inboundChain(plan, deps), outbound: outboundChain(plan, deps) };
  }

  private resolveTunnel(direction: "inbound" | "outbound", ex: import("./chain.js").Exchange): Address {
    const plan = this.plan;
    if (direction === "inbound") return plan.sidecar.app;
    const { match } = findCandidate(plan.outbound, ex);
    const ref = match ? pickRef(match.rule) : undefined;
    const set = this.upstreams.endpointSet(ref?.backend ?? ex.host, ref?.subset);
    if (!set) throw new MeshError("UNKNOWN_SERVICE", `No Backend or Route for host "${ex.host}".`);
    const st = set.balancer.pick(set.states, Date.now());
    if (!st) throw new MeshError("NO_HEALTHY_ENDPOINT");
    return st.endpoint;
  }
}
