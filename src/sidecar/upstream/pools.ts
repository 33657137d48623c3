// undici connection pools, one per endpoint, shared across config swaps and closed when an endpoint leaves config.
// Bounded: at most one pool per configured endpoint, each with a connection cap.
import { createRequire } from "node:module";
import type { Client as UndiciClient, Dispatcher, Pool as UndiciPool, buildConnector as UndiciBuildConnector } from "undici";

// Only undici's Pool and connector modules: `import "undici"` also loads fetch, WebSocket, caches and mocks,
// which cost the sidecar ~80 ms of startup and ~8 MB of RSS for nothing it uses (docs/benchmarks.md).
// The same wiring undici's index.js does for request()/stream()/pipeline() on every dispatcher.
const load = createRequire(import.meta.url);
Object.assign((load("undici/lib/dispatcher/dispatcher.js") as { prototype: object }).prototype, load("undici/lib/api/index.js"));
const Pool = load("undici/lib/dispatcher/pool.js") as typeof UndiciPool;
type Pool = UndiciPool;
const Client = load("undici/lib/dispatcher/client.js") as typeof UndiciClient;
const buildConnector = load("undici/lib/core/connect.js") as typeof UndiciBuildConnector;
import type { Plan } from "../../config/compile.js";
import type { BackendPlan, EndpointPlan } from "../../config/compile/backends.js";
import { EndpointState } from "./endpoint-state.js";
import { createBalancer, type Balancer } from "./balancer.js";

export interface PoolOptions {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Makes the connection for one endpoint (mTLS to peer sidecars); undefined means plain TCP. */
export type UpstreamConnector = (ep: EndpointPlan) => UndiciBuildConnector.connector | undefined;

export interface Upstream {
  state: EndpointState;
  dispatcher: Dispatcher;
}

/** Endpoint selection for one backend (optionally a subset); built per plan, state shared. */
export interface EndpointSet {
  backend: BackendPlan;
  states: EndpointState[];
  balancer: Balancer;
}

const APP_SET = "\u0000app";

export class Upstreams {
  private readonly entries = new Map<string, Upstream>();
  private sets = new Map<string, EndpointSet>();
  private connector: UpstreamConnector | undefined;

  constructor(private readonly options: PoolOptions) {}

  /** Called on every plan swap: creates pools for new endpoints, closes pools of removed ones. */
  sync(plan: Plan): void {
    const wanted = new Map<string, EndpointPlan>();
    for (const b of plan.backends.values()) for (const ep of b.endpoints) wanted.set(ep.key, ep);
    const app: EndpointPlan = { ...plan.sidecar.app, labels: { version: plan.sidecar.version } };
    if (!wanted.has(app.key)) wanted.set(app.key, app);
    for (const [key, ep] of wanted) if (!this.entries.has(key)) this.entries.set(key, { state: new EndpointState(ep), dispatcher: this.createPool(ep) });
    for (const [key, up] of this.entries)
      if (!wanted.has(key)) {
        this.entries.delete(key);
        void up.dispatcher.close().catch(() => {});
      }
    const sets = new Map<string, EndpointSet>();
    for (const b of plan.backends.values()) {
      const build = (eps: EndpointPlan[]) => ({ backend: b, states: eps.map((ep) => this.entries.get(ep.key)!.state), balancer: createBalancer(b.loadBalancer) });
      sets.set(b.name, build(b.endpoints));
      for (const [subset, eps] of b.subsets) sets.set(`${b.name}\u0000${subset}`, build(eps));
    }
    const appState = this.entries.get(app.key)!.state;
    sets.set(APP_SET, { backend: { name: plan.sidecar.service, endpoints: [app], subsets: new Map(), loadBalancer: "RoundRobin", baseEjectionMs: 100, maxEjectionMs: 1000, mtls: false }, states: [appState], balancer: createBalancer("RoundRobin") });
    this.sets = sets;
  }

  /** Installs how new connections are made; read per connection, so existing keep-alive sockets are untouched. */
  useConnector(connector: UpstreamConnector): void {
    this.connector = connector;
  }

  /** The local app behind the inbound listener. */
  appSet(): EndpointSet {
    return this.sets.get(APP_SET)!;
  }

  endpointSet(backend: string, subset?: string): EndpointSet | undefined {
    return this.sets.get(subset ? `${backend}\u0000${subset}` : backend);
  }

  get(key: string): Upstream | undefined {
    return this.entries.get(key);
  }

  /** Pool statistics per endpoint, for saturation metrics. */
  stats(): { key: string; connected: number; free: number; pending: number; running: number; inflight: number; ejected: boolean }[] {
    const now = Date.now();
    return [...this.entries].map(([key, up]) => {
      const s = (up.dispatcher as Pool).stats;
      return { key, connected: s?.connected ?? 0, free: s?.free ?? 0, pending: s?.pending ?? 0, running: s?.running ?? 0, inflight: up.state.inflight, ejected: !up.state.isAvailable(now) };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((u) => u.dispatcher.close()));
    this.entries.clear();
  }

  /**
   * A one-request connection to an endpoint, outside its pool: the keep-alive race retry must not land on another
   * pooled socket the upstream is closing too. The caller closes it when the response is done.
   */
  fresh(key: string): Dispatcher | undefined {
    const up = this.entries.get(key);
    if (!up) return undefined;
    return new Client(`http://${key}`, { ...this.dispatcherOptions(up.state.endpoint), pipelining: 1 });
  }

  private createPool(ep: EndpointPlan): Dispatcher {
    return new Pool(`http://${ep.key}`, { ...this.dispatcherOptions(ep), connections: this.options.connections, pipelining: 1 });
  }

  private dispatcherOptions(ep: EndpointPlan) {
    const o = this.options;
    const plain = buildConnector({ timeout: o.connectTimeoutMs });
    return {
      connect: ((opts, cb) => (this.connector?.(ep) ?? plain)(opts, cb)) as UndiciBuildConnector.connector,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      // Stay under Node's default 5 s keepAliveTimeout; undici also honours the upstream's Keep-Alive hint.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      keepAliveTimeoutThreshold: 1_000,
      strictContentLength: true,
    };
  }
}
