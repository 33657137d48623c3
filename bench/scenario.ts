// What a benchmark row is: a scenario starts its processes and returns a Target the load generator drives.
// Scenarios live one per module in bench/scenarios/ and are listed once in bench/scenarios/index.ts.
import type { Measured } from "./process.js";

/** One running thing under test: where to send load, and which processes count as "the proxy". */
export interface Target {
  /** URL the load generator requests (http://127.0.0.1:PORT/path). */
  url: string;
  /** Host header to send (outbound sidecars route by it); default: the URL's authority. */
  host?: string;
  /** Processes whose RSS and CPU are reported (the proxy or proxies); empty for `direct`. */
  measured: Measured[];
  /** Spawn -> ready (ms) when the scenario measured it. */
  readyMs?: number;
  /** Free-form facts shown under the table (versions, config used). */
  notes?: string[];
  stop(): Promise<void>;
}

export interface Scenario {
  /** Row name, unique; `--only NAME` selects it. */
  name: string;
  /** One line: what this row is. */
  description: string;
  /** Row whose numbers this one is compared with (its rps ratio and added p50). Default "direct". */
  baseline?: string;
  /** Target for this row's rps ratio to its baseline (e.g. 0.85 for "telemetry on >= 0.85x off"). */
  minRatio?: number;
  /** Leave the row out of the table (rather than "skipped") when unavailable. */
  optional?: boolean;
  /** Returns why the row cannot run here (a missing binary), or undefined. */
  unavailable?(): string | undefined;
  /** Starts the processes for a load row. */
  start?(ctx: BenchContext): Promise<Target>;
  /** A row that measures something else than load (startup): returns its own fields. */
  measure?(ctx: BenchContext): Promise<Partial<RowResult>>;
}

/** What every scenario gets: the shared upstream, a temp dir, pinning and process helpers. */
export interface BenchContext {
  upstream: { host: string; port: number; kind: string };
  tmpdir: string;
  /** CPU list for proxies (`taskset -c`), or undefined when pinning is unavailable. */
  proxyCpus: string | undefined;
  /** CPU list of the load generator and upstream: helpers that are environment, not proxy (an OTLP receiver). */
  loadCpus: string | undefined;
  quick: boolean;
  /** When set, sidecars run with --cpu-prof and write profiles here. */
  profileDir: string | undefined;
  /** `--ref PATH`: another build's dist/src/cli/main.js, for A/B rows in the same run. */
  refCli: string | undefined;
  freePort(): Promise<number>;
  /** Starts `outrigger sidecar` pinned to the proxy core; resolves when /readyz is 200. */
  startSidecar(opts: SidecarStart): Promise<SidecarHandle>;
}

export interface SidecarStart {
  /** Quick flags (`--service`, `--app`, `--outbound`, `--endpoint`, ...); `--admin` is added. */
  args: string[];
  /**
   * Config documents (YAML) written to a temp file and passed as --config. When the config holds its own
   * Sidecar resource, the CLI ignores --admin: pass a function and put the admin port it gets into the spec.
   */
  config?: string | ((adminPort: number) => string);
  env?: NodeJS.ProcessEnv;
  /** Another build's dist/src/cli/main.js (the `--ref` build), to compare two versions in one run. */
  cli?: string;
}

export interface SidecarHandle {
  measured: Measured;
  adminPort: number;
  readyMs: number;
  stop(): Promise<void>;
}

export interface RowResult {
  name: string;
  description: string;
  baseline: string | null;
  skipped?: string;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** rps / baseline rps, same run. */
  ratio?: number;
  /** Moderate, paced load: achieved rps and p50; added p50 is this minus the baseline's. */
  moderateRps?: number;
  moderateP50Ms?: number;
  addedP50Ms?: number;
  errors?: number;
  idleRssMb?: number;
  rssMb?: number;
  cpuSecPer1k?: number;
  readyMs?: number;
  /** Busy fraction of the load-generator core (wrk + upstream); near 1.0 means the generator side was the limit. */
  loadCoreBusy?: number;
  notes?: string[];
}
