// TelemetryPolicy (+ OTEL_* env vars as defaults) -> the telemetry part of the Plan, compiled once per config version.
// The telemetry feature reads this on every plan swap: signals switch on/off and sample rates change without restart.
import type { AnyResource } from "../schema.js";
import type { ConfigIssue } from "../load.js";
import { durationOr } from "../units.js";

export type SamplerType = "always" | "never" | "ratio" | "parent-ratio" | "rate-limited";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface ExportPlan {
  /** OTLP/HTTP traces URL (…/v1/traces); undefined = no trace export. */
  tracesUrl: string | undefined;
  /** OTLP/HTTP metrics URL (…/v1/metrics). */
  metricsUrl: string | undefined;
  headers: Record<string, string>;
  token: string | undefined;
  tokenFile: string | undefined;
  gzip: boolean;
  tls: { caFile?: string; certFile?: string; keyFile?: string } | undefined;
  batchSize: number;
  queueSize: number;
  intervalMs: number;
  timeoutMs: number;
  maxAttempts: number;
}

export interface TelemetryPlan {
  /** OTEL_SERVICE_NAME, when set, overrides service.name on the trace resource. */
  serviceName: string | undefined;
  metrics: { enabled: boolean; maxLabelSets: number; otlp: boolean; otlpIntervalMs: number };
  tracing: {
    enabled: boolean;
    sampler: { type: SamplerType; ratio: number; perSecond: number };
    /** route id -> ratio, replacing the sampler's ratio for that route. */
    routes: ReadonlyMap<string, number>;
    keepErrors: boolean;
    /** Keep spans at least this slow even when sampled out; 0 = off. */
    slowMs: number;
    /** Cap on recorded-but-unsampled spans waiting for their end-time decision. */
    maxPending: number;
  };
  export: ExportPlan;
  /** level: undefined keeps the process's own level (OUTRIGGER_LOG_LEVEL or the embedding program's choice). */
  logs: { level: LogLevel | undefined; access: { enabled: boolean; sampleRatio: number; includeQuery: boolean; headers: string[] }; redactHeaders: string[] };
  budget: { spansPerSecond: number; logLinesPerSecond: number; exportBytesPerSecond: number };
}

/** OTEL_TRACES_SAMPLER values (the OpenTelemetry SDK environment spec) -> our sampler. */
export function samplerFromEnv(env: NodeJS.ProcessEnv): { type: SamplerType; ratio: number } | undefined {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (!name) return undefined;
  const arg = env.OTEL_TRACES_SAMPLER_ARG === undefined ? NaN : Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (name) {
    case "always_on":
      return { type: "always", ratio: 1 };
    case "always_off":
      return { type: "never", ratio: 0 };
    case "traceidratio":
      return { type: "ratio", ratio };
    case "parentbased_always_on":
      return { type: "parent-ratio", ratio: 1 };
    case "parentbased_always_off":
      return { type: "parent-ratio", ratio: 0 };
    case "parentbased_traceidratio":
      return { type: "parent-ratio", ratio };
    default:
      return undefined;
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs, values URL-encoded. */
export function headersFromEnv(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    try {
      out[part.slice(0, eq).trim().toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      /* a malformed pair is skipped, as the SDKs do */
    }
  }
  return out;
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`;

export function compileTelemetry(resources: readonly AnyResource[], fail: (path: string, message: string) => void, env: NodeJS.ProcessEnv = process.env): TelemetryPlan {
  const policies = resources.filter((r) => r.kind === "TelemetryPolicy");
  if (policies.length > 1) fail("kind", `at most one TelemetryPolicy resource is allowed (found ${policies.length})`);
  const p = policies[0];
  const spec = p && p.kind === "TelemetryPolicy" ? p.spec : {};
  const at = p ? `TelemetryPolicy/${p.metadata.name}.spec` : "TelemetryPolicy.spec";

  const s = spec.tracing?.sampler;
  const fromEnv = samplerFromEnv(env);
  const sampler = s
    ? { type: s.type, ratio: s.ratio ?? (s.type === "never" ? 0 : 1), perSecond: s.perSecond ?? 0 }
    : { ...(fromEnv ?? { type: "parent-ratio" as const, ratio: 1 }), perSecond: 0 };
  if (s?.type === "rate-limited" && s.perSecond === undefined) fail(`${at}.tracing.sampler.perSecond`, "rate-limited sampling needs perSecond (traces per second)");

  const e = spec.export ?? {};
  const base = e.endpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  let tracesUrl = base ? join(base, "/v1/traces") : undefined;
  let metricsUrl = base ? join(base, "/v1/metrics") : undefined;
  if (!e.endpoint) {
    if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) metricsUrl = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  }
  for (const [name, url] of [["endpoint", tracesUrl], ["endpoint", metricsUrl]] as const)
    if (url && !/^https?:\/\/[^/]+/.test(url)) fail(`${at}.export.${name}`, `"${url}" is not an http(s) URL`);
  if (e.token && e.tokenFile) fail(`${at}.export.token`, "set token or tokenFile, not both");

  const ms = (v: string | undefined, fallback: number) => durationOr(v, fallback);
  const m = spec.metrics ?? {};
  const t = spec.tracing ?? {};
  const l = spec.logs ?? {};
  const b = spec.budget ?? {};
  const routes = new Map<string, number>();
  for (const r of t.routes ?? []) routes.set(r.route, r.ratio);
  return {
    serviceName: env.OTEL_SERVICE_NAME || undefined,
    metrics: { enabled: m.enabled ?? true, maxLabelSets: m.maxLabelSets ?? 2000, otlp: (m.otlp?.enabled ?? true) && metricsUrl !== undefined, otlpIntervalMs: ms(m.otlp?.interval, 15_000) },
    tracing: {
      enabled: (t.enabled ?? true) && env.OTEL_SDK_DISABLED !== "true",
      sampler,
      routes,
      keepErrors: t.keep?.errors ?? true,
      slowMs: ms(t.keep?.slowerThan, 0),
      maxPending: t.keep?.maxPending ?? 10_000,
    },
    export: {
      tracesUrl,
      metricsUrl,
      headers: { ...headersFromEnv(env.OTEL_EXPORTER_OTLP_HEADERS), ...Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) },
      token: e.token,
      tokenFile: e.tokenFile,
      gzip: (e.compression ?? "gzip") === "gzip",
      tls: e.tls,
      batchSize: e.batchSize ?? 512,
      queueSize: e.queueSize ?? 4096,
      intervalMs: ms(e.interval, 1000),
      timeoutMs: ms(e.timeout, 10_000),
      maxAttempts: e.maxAttempts ?? 5,
    },
    logs: {
      level: l.level as LogLevel | undefined,
      access: { enabled: l.access?.enabled ?? true, sampleRatio: l.access?.sampleRatio ?? 1, includeQuery: l.access?.includeQuery ?? false, headers: (l.access?.headers ?? []).map((h) => h.toLowerCase()) },
      redactHeaders: ["authorization", "cookie", "set-cookie", "proxy-authorization", ...(l.redactHeaders ?? []).map((h) => h.toLowerCase())],
    },
    budget: { spansPerSecond: b.spansPerSecond ?? Infinity, logLinesPerSecond: b.logLinesPerSecond ?? Infinity, exportBytesPerSecond: b.exportBytesPerSecond ?? Infinity },
  };
}

export type { ConfigIssue };
