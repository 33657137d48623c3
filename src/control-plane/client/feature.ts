// The sidecar's control-plane client, as a Feature: subscribes for mesh-wide config, compiles and swaps it in,
// ACKs or NACKs; registers this instance's inbound endpoint with a heartbeat and deregisters on drain; keeps
// the last-known-good config on disk; and, when the Mesh says fail-closed, answers outbound requests with
// 503 CONTROL_PLANE_UNAVAILABLE once the control plane has been out of reach longer than the grace period.
import { hostname } from "node:os";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import client from "prom-client";
import { request } from "undici";
import { compilePlan, type Plan } from "../../config/compile.js";
import type { AnyResource } from "../../config/schema.js";
import { ConfigError } from "../../config/load.js";
import { durationOr, parseAddress } from "../../config/units.js";
import type { SidecarSpec } from "../../config/kinds/sidecar.js";
import { MeshError } from "../../errors.js";
import type { Policy } from "../../sidecar/chain.js";
import type { Feature, FeatureContext, FeatureFactory } from "../../sidecar/feature.js";
import type { Snapshot } from "../push.js";
import { mergeResources } from "./merge.js";
import { readLastKnownGood, writeLastKnownGood } from "./last-known-good.js";
import { Subscription } from "./subscription.js";

type ControlPlaneSpec = NonNullable<SidecarSpec["controlPlane"]>;
export const DEFAULT_GRACE_MS = 30_000;
const FIRST_SYNC_WAIT_MS = 3_000;

export class ControlPlaneClient implements Feature {
  readonly name = "controlPlane";
  private local: AnyResource[];
  private readonly spec: ControlPlaneSpec | undefined;
  private sub: Subscription | undefined;
  private snapshot: Snapshot | undefined;
  private source: "local" | "last-known-good" | "control-plane" = "local";
  private connected = false;
  private connectedTo: string | undefined;
  private lastContact = Date.now();
  private lastError: string | undefined;
  private lastNack: { version: number; reason: string } | undefined;
  private draining = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private token: string | undefined;
  private firstSync: (() => void) | undefined;
  private applying: Promise<void> = Promise.resolve();
  readonly instance: string;
  private readonly updates: client.Counter<"result">;

  constructor(private readonly ctx: FeatureContext) {
    const plan = ctx.plan();
    this.local = [...plan.resources];
    this.spec = sidecarSpec(plan.resources)?.controlPlane;
    this.instance = this.spec?.instance ?? `${plan.sidecar.service}-${hostname()}-${process.pid}`;
    const registers = [ctx.metrics.registry];
    const staleness = () => this.stalenessMs() / 1000;
    const connected = () => (this.connected ? 1 : 0);
    const version = () => this.snapshot?.version ?? 0;
    this.updates = new client.Counter({ name: "outrigger_control_plane_updates_total", help: "Config versions received from the control plane, by result (applied, rejected).", labelNames: ["result"] as const, registers });
    if (!this.spec) return;
    new client.Gauge({
      name: "outrigger_control_plane_staleness_seconds",
      help: "Seconds since the sidecar last heard from the control plane (0 while subscribed).",
      registers,
      collect() {
        this.set(staleness());
      },
    });
    new client.Gauge({
      name: "outrigger_control_plane_connected",
      help: "1 while subscribed to a control-plane replica.",
      registers,
      collect() {
        this.set(connected());
      },
    });
    new client.Gauge({
      name: "outrigger_control_plane_config_version",
      help: "The control-plane config version in force (0 before the first one).",
      registers,
      collect() {
        this.set(version());
      },
    });
  }

  get active(): boolean {
    return !!this.spec;
  }

  private get mesh() {
    return this.ctx.plan().mesh;
  }

  private stalenessMs(): number {
    return this.connected ? 0 : Date.now() - this.lastContact;
  }

  private graceMs(): number {
    return durationOr(this.mesh.controlPlaneGracePeriod, DEFAULT_GRACE_MS);
  }

  /** True when outbound traffic must stop: fail-closed mode and no contact for longer than the grace period. */
  failingClosed(): boolean {
    return !!this.spec && this.mesh.controlPlaneLoss === "fail-closed" && this.stalenessMs() > this.graceMs();
  }

  admit(_plan: Plan, direction: "inbound" | "outbound"): Policy[] {
    if (!this.spec || direction !== "outbound") return [];
    const gate: Policy = (ex, next) => {
      if (this.failingClosed()) return Promise.reject(new MeshError("CONTROL_PLANE_UNAVAILABLE", `No contact for ${Math.round(this.stalenessMs() / 1000)} s (grace period ${this.graceMs() / 1000} s).`));
      return next(ex);
    };
    return [gate];
  }

  readiness() {
    if (!this.spec) return { ready: true, detail: { enabled: false } };
    const failing = this.failingClosed();
    return {
      ready: !failing,
      detail: {
        connected: this.connected,
        url: this.connectedTo ?? null,
        instance: this.instance,
        configVersion: this.snapshot?.version ?? null,
        source: this.source,
        stalenessSeconds: Math.round(this.stalenessMs() / 100) / 10,
        mode: this.mesh.controlPlaneLoss ?? "keep-last",
        gracePeriodSeconds: this.graceMs() / 1000,
        failingClosed: failing,
        ...(this.lastError ? { lastError: this.lastError } : {}),
        ...(this.lastNack ? { lastNack: this.lastNack } : {}),
      },
    };
  }

  async start(): Promise<void> {
    if (!this.spec) return;
    if (this.spec.tokenFile) this.token = (await readFile(this.spec.tokenFile, "utf8")).trim();
    const lkg = await readLastKnownGood(this.lkgPath()).catch((err: Error) => {
      this.ctx.logger.warn({ event: "control-plane.lkg.unreadable", err: err.message }, "last-known-good config unreadable; ignoring it");
      return undefined;
    });
    if (lkg) {
      const ok = this.install(lkg, "last-known-good");
      this.ctx.logger.info({ event: "control-plane.lkg.loaded", version: lkg.version, applied: ok }, "last-known-good config loaded");
    }
    const service = this.ctx.plan().sidecar.service;
    this.sub = new Subscription({
      urls: this.spec.urls,
      token: () => this.token,
      service,
      instance: this.instance,
      onSnapshot: (s) => this.receive(s),
      onContact: () => (this.lastContact = Date.now()),
      onState: (s) => {
        if (s.connected !== this.connected) this.ctx.logger.info({ event: s.connected ? "control-plane.connected" : "control-plane.disconnected", url: s.url, err: s.error }, s.connected ? "subscribed to the control plane" : "lost the control plane");
        if (!s.connected && this.connected) this.lastContact = Date.now();
        this.connected = s.connected;
        this.connectedTo = s.connected ? s.url : undefined;
        if (s.error) this.lastError = `${s.url}: ${s.error}`;
        if (!s.connected) this.firstSync?.(); // do not hold startup hostage to an unreachable control plane
      },
    });
    const first = new Promise<void>((r) => (this.firstSync = r));
    this.sub.start();
    await Promise.race([first, new Promise((r) => setTimeout(r, FIRST_SYNC_WAIT_MS).unref())]);
    this.firstSync = undefined;
    const every = durationOr(this.spec.heartbeat, 5_000);
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), every).unref();
  }

  /** The sidecar's local config changed (file reload, SIGHUP): re-merge it with the pushed config. */
  reloadLocal(resources: readonly AnyResource[]): void {
    this.local = [...resources];
    if (this.snapshot) this.install(this.snapshot, this.source === "control-plane" ? "control-plane" : "last-known-good");
    else this.ctx.apply?.(compilePlan(this.local, "<local>"));
  }

  async drain(): Promise<void> {
    if (!this.spec || this.draining) return;
    this.draining = true;
    clearInterval(this.heartbeatTimer);
    if (this.endpoint()) await this.post("/v1/deregister", { service: this.ctx.plan().sidecar.service, instance: this.instance }).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    await this.drain();
    await this.sub?.close();
    await this.applying;
  }

  private lkgPath(): string {
    return this.spec?.lastKnownGood ?? join(".outrigger", `${this.ctx.plan().sidecar.service}.last-known-good.json`);
  }

  /** Compiles local + pushed config and swaps it in; returns the error message when it does not compile. */
  private install(snap: Snapshot, source: "last-known-good" | "control-plane"): string | true {
    try {
      const plan = compilePlan(mergeResources(this.local, snap), `control-plane version ${snap.version}`);
      if (plan.version !== this.ctx.plan().version) this.ctx.apply!(plan);
      this.snapshot = snap;
      this.source = source;
      return true;
    } catch (err) {
      return err instanceof ConfigError ? err.issues.map((i) => `${i.path}: ${i.message}`).join("; ") : (err as Error).message;
    }
  }

  private receive(snap: Snapshot): Promise<void> {
    this.applying = this.applying.then(async () => {
      const result = this.install(snap, "control-plane");
      this.firstSync?.();
      if (result === true) {
        this.updates.inc({ result: "applied" });
        this.ctx.logger.info({ event: "control-plane.applied", version: snap.version, hash: snap.hash }, "control-plane config applied");
        await Promise.all([
          this.post("/v1/ack", { service: this.ctx.plan().sidecar.service, instance: this.instance, version: snap.version, hash: snap.hash, ok: true }).catch(() => {}),
          writeLastKnownGood(this.lkgPath(), snap).catch((err: Error) => this.ctx.logger.error({ event: "control-plane.lkg.write-failed", err: err.message }, "cannot save the last-known-good config")),
        ]);
      } else {
        this.updates.inc({ result: "rejected" });
        this.lastNack = { version: snap.version, reason: result };
        this.ctx.logger.error({ event: "control-plane.rejected", version: snap.version, err: result }, "control-plane config rejected; keeping the current one");
        await this.post("/v1/ack", { service: this.ctx.plan().sidecar.service, instance: this.instance, version: snap.version, ok: false, error: result }).catch(() => {});
      }
    });
    return this.applying;
  }

  private endpoint(): { address: string; labels: Record<string, string> } | undefined {
    const s = this.ctx.plan().sidecar;
    const addr = this.spec?.advertise !== undefined ? parseAddress(this.spec.advertise) : s.inbound;
    if (!addr || addr.port === 0) return undefined;
    return { address: addr.key, labels: { ...s.labels, ...(s.version !== "unknown" ? { version: s.version } : {}) } };
  }

  private async heartbeat(): Promise<void> {
    if (this.draining) return;
    const ep = this.endpoint();
    try {
      await this.post("/v1/heartbeat", { service: this.ctx.plan().sidecar.service, instance: this.instance, ttlSeconds: Math.max(3, Math.ceil((durationOr(this.spec?.heartbeat, 5_000) * 3) / 1000)), ...(ep ? { endpoint: { ...ep, health: "healthy" } } : {}) });
      this.lastContact = Date.now();
    } catch (err) {
      this.lastError = `heartbeat: ${(err as Error).message}`;
    }
  }

  /** POSTs to the replica we are subscribed to, then the others in order. */
  private async post(path: string, body: unknown): Promise<void> {
    const urls = [...new Set([this.sub?.current, ...(this.spec?.urls ?? [])].filter((u): u is string => !!u))];
    let last: unknown;
    for (const u of urls) {
      try {
        const res = await request(new URL(path, u), {
          method: "POST",
          headers: { "content-type": "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
          body: JSON.stringify(body),
          headersTimeout: 5_000,
          bodyTimeout: 5_000,
        });
        const text = await res.body.text();
        if (res.statusCode >= 400) throw new Error(`${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new Error("no control-plane URL");
  }
}

function sidecarSpec(resources: readonly AnyResource[]): SidecarSpec | undefined {
  return resources.find((r) => r.kind === "Sidecar")?.spec as SidecarSpec | undefined;
}

export const controlPlaneFeature: FeatureFactory = (ctx) => new ControlPlaneClient(ctx);
