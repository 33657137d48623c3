// The control plane's own API (v1), mounted on the route table: config versions, registry, push, status,
// audit and tokens. Each route names the roles that may call it.
import { ConfigError } from "../../config/load.js";
import { MeshError } from "../../errors.js";
import type { RouteTable, RequestContext } from "./routes.js";
import { isRole, type Principal } from "../auth/principal.js";
import { createToken } from "../auth/tokens.js";
import type { ConfigVersions } from "../versions.js";
import type { PushHub } from "../push.js";
import type { Registry } from "../registry.js";
import type { Store } from "../store/store.js";
import type { AuditEntry } from "../extension.js";

export interface ApiDeps {
  store: Store;
  versions: ConfigVersions;
  push: PushHub;
  registry: Registry;
  audit: (e: AuditEntry) => Promise<void>;
  replica: string;
}

const READ = ["operator", "viewer"] as const;
const WRITE = ["operator"] as const;
const SIDECAR = ["sidecar", "operator"] as const;

const who = (c: RequestContext): Principal => c.principal!;
const str = (v: unknown, field: string, opts: { optional?: boolean; max?: number } = {}): string | undefined => {
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== "string" || !v || v.length > (opts.max ?? 253)) throw new MeshError("BAD_REQUEST", `Field "${field}" must be a non-empty string of at most ${opts.max ?? 253} characters.`);
  return v;
};

function configError(err: unknown): never {
  if (err instanceof ConfigError) throw new MeshError("CONFIG_INVALID", err.message);
  throw err;
}

export function mountApi(t: RouteTable, d: ApiDeps): void {
  t.add({
    method: "POST",
    path: "/v1/apply",
    auth: WRITE,
    action: "apply config",
    handler: async (c) => {
      const b = await c.json<{ files?: { name: string; text: string }[]; dryRun?: boolean; message?: string }>();
      if (!Array.isArray(b.files) || !b.files.length || b.files.some((f) => typeof f?.name !== "string" || typeof f?.text !== "string"))
        throw new MeshError("BAD_REQUEST", 'Body must be {"files":[{"name","text"}], "dryRun"?, "message"?}.');
      const r = await d.versions.apply(who(c), b.files, { dryRun: !!b.dryRun, ...(b.message ? { message: String(b.message) } : {}) }).catch(configError);
      c.send(r.dryRun || r.unchanged ? 200 : 201, r);
    },
  });
  t.add({
    method: "DELETE",
    path: "/v1/resources/:kind/:name",
    auth: WRITE,
    action: "delete config",
    handler: async (c) => {
      const dryRun = c.url.searchParams.get("dryRun") === "true";
      const message = c.url.searchParams.get("message") ?? undefined;
      const r = await d.versions.delete(who(c), c.params.kind!, c.params.name!, { dryRun, ...(message ? { message } : {}) }).catch(configError);
      c.send(200, r);
    },
  });
  t.add({
    method: "POST",
    path: "/v1/rollback",
    auth: WRITE,
    action: "roll back config",
    handler: async (c) => {
      const b = await c.json<{ to?: number; message?: string; dryRun?: boolean }>();
      if (b.to !== undefined && (!Number.isInteger(b.to) || b.to < 1)) throw new MeshError("BAD_REQUEST", '"to" must be a version number ≥ 1.');
      const r = await d.versions.rollback(who(c), b.to, { dryRun: !!b.dryRun, ...(b.message ? { message: String(b.message) } : {}) }).catch(configError);
      c.send(201, r);
    },
  });
  t.add({
    method: "GET",
    path: "/v1/resources",
    auth: READ,
    action: "read config",
    handler: async (c) => {
      const at = c.url.searchParams.get("version");
      const v = at ? await d.store.version(Number(at)) : await d.store.head();
      if (at && !v) throw new MeshError("NOT_FOUND", `No version ${at}.`);
      const kind = c.url.searchParams.get("kind");
      const name = c.url.searchParams.get("name");
      const items = (v?.resources ?? []).filter((r) => (!kind || r.kind.toLowerCase() === kind.toLowerCase()) && (!name || r.metadata.name === name));
      if (name && !items.length) throw new MeshError("NOT_FOUND", `No ${kind ?? "resource"} named "${name}" in version ${v?.version ?? 0}.`);
      c.send(200, { version: v?.version ?? 0, hash: v?.hash ?? "", items });
    },
  });
  t.add({
    method: "GET",
    path: "/v1/versions",
    auth: READ,
    action: "read history",
    handler: async (c) => {
      const limit = Math.min(Math.max(Number(c.url.searchParams.get("limit") ?? 50) || 50, 1), 10_000);
      const vs = await d.store.versions(limit);
      c.send(200, { items: vs.map(({ resources, ...rest }) => ({ ...rest, resources: resources.length })) });
    },
  });
  t.add({
    method: "GET",
    path: "/v1/versions/:n",
    auth: READ,
    action: "read history",
    handler: async (c) => {
      const v = await d.store.version(Number(c.params.n));
      if (!v) throw new MeshError("NOT_FOUND", `No version ${c.params.n}.`);
      c.send(200, v);
    },
  });
  t.add({
    method: "GET",
    path: "/v1/status",
    auth: READ,
    action: "read status",
    handler: async (c) => c.send(200, await d.registry.status(d.push.connected())),
  });
  t.add({
    method: "GET",
    path: "/v1/endpoints",
    auth: READ,
    action: "read the registry",
    handler: async (c) => c.send(200, { items: await d.store.endpoints() }),
  });
  t.add({
    method: "GET",
    path: "/v1/audit",
    auth: READ,
    action: "read the audit log",
    handler: async (c) => {
      const limit = Math.min(Math.max(Number(c.url.searchParams.get("limit") ?? 100) || 100, 1), 100_000);
      c.send(200, { items: await d.store.audit(limit) });
    },
  });
  t.add({
    method: "POST",
    path: "/v1/tokens",
    auth: WRITE,
    action: "create tokens",
    handler: async (c) => {
      const b = await c.json<{ role?: string; name?: string; service?: string }>();
      if (!isRole(b.role)) throw new MeshError("BAD_REQUEST", '"role" must be operator, viewer or sidecar.');
      const name = str(b.name, "name", { optional: true, max: 63 });
      const service = str(b.service, "service", { optional: true, max: 63 });
      if (b.role === "sidecar" && !service) throw new MeshError("BAD_REQUEST", 'A sidecar token needs "service": the one service it may register and subscribe as.');
      const t = await createToken(d.store, { role: b.role, ...(name ? { name } : {}), ...(service ? { service } : {}), createdBy: who(c).subject });
      await d.audit({ who: who(c).subject, action: "token.create", result: "ok", token: t.record.id, role: t.record.role, ...(service ? { service } : {}) });
      c.send(201, { token: t.token, id: t.record.id, name: t.record.name, role: t.record.role, service: t.record.service });
    },
  });
  t.add({
    method: "GET",
    path: "/v1/tokens",
    auth: WRITE,
    action: "list tokens",
    handler: async (c) => c.send(200, { items: (await d.store.tokens()).map(({ salt: _s, hash: _h, ...rest }) => rest) }),
  });

  // Sidecar-facing: subscribe (SSE), ACK/NACK, heartbeat + registration, deregistration.
  const sidecarSelf = (c: RequestContext, service: string) => {
    const p = who(c);
    if (p.role === "sidecar" && p.service !== service) throw new MeshError("FORBIDDEN", `this token may act only for service "${p.service}", not "${service}"`);
  };
  t.add({
    method: "GET",
    path: "/v1/subscribe",
    auth: SIDECAR,
    action: "subscribe to config",
    handler: async (c) => {
      const service = str(c.url.searchParams.get("service") ?? undefined, "service", { max: 63 })!;
      const instance = str(c.url.searchParams.get("instance") ?? undefined, "instance")!;
      sidecarSelf(c, service);
      const since = (c.req.headers["last-event-id"] as string | undefined) ?? c.url.searchParams.get("since") ?? undefined;
      await d.registry.seen({ instance, service, subscribedTo: d.replica });
      await d.push.subscribe(c.res, { instance, service }, since);
    },
  });
  t.add({
    method: "POST",
    path: "/v1/ack",
    auth: SIDECAR,
    action: "acknowledge config",
    handler: async (c) => {
      const b = await c.json<{ service?: string; instance?: string; version?: number; hash?: string; ok?: boolean; error?: string }>();
      const service = str(b.service, "service", { max: 63 })!;
      const instance = str(b.instance, "instance")!;
      sidecarSelf(c, service);
      if (!Number.isInteger(b.version)) throw new MeshError("BAD_REQUEST", '"version" must be an integer.');
      await d.registry.ack({ service, instance, version: b.version!, ok: b.ok !== false, ...(b.hash ? { hash: String(b.hash) } : {}), ...(b.error ? { error: String(b.error).slice(0, 2000) } : {}) });
      c.send(200, { ok: true });
    },
  });
  t.add({
    method: "POST",
    path: "/v1/heartbeat",
    auth: SIDECAR,
    action: "register endpoints",
    handler: async (c) => {
      const b = await c.json<{ service?: string; instance?: string; ttlSeconds?: number; endpoint?: { address?: string; labels?: Record<string, string>; health?: string } }>();
      const service = str(b.service, "service", { max: 63 })!;
      const instance = str(b.instance, "instance")!;
      sidecarSelf(c, service);
      await d.registry.heartbeat({ service, instance, ttlSeconds: b.ttlSeconds, endpoint: b.endpoint, replica: d.replica });
      c.send(200, { ok: true });
    },
  });
  t.add({
    method: "POST",
    path: "/v1/deregister",
    auth: SIDECAR,
    action: "deregister endpoints",
    handler: async (c) => {
      const b = await c.json<{ service?: string; instance?: string }>();
      const service = str(b.service, "service", { max: 63 })!;
      const instance = str(b.instance, "instance")!;
      sidecarSelf(c, service);
      const removed = await d.registry.deregister(service, instance);
      c.send(200, { removed });
    },
  });
}
