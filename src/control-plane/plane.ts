// Assembles one control-plane replica: store, audit, config versions, registry, push and the HTTP server.
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Address } from "../config/units.js";
import { mountApi } from "./api/v1.js";
import { TokenAuthenticator } from "./auth/tokens.js";
import type { AuditEntry, ControlPlaneExtensionFactory } from "./extension.js";
import { PushHub } from "./push.js";
import { Registry } from "./registry.js";
import { ControlPlaneServer } from "./server.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";
import { ConfigVersions } from "./versions.js";

export interface ControlPlaneOptions {
  dataDir: string;
  /** redis://… for a shared store; the embedded file store in dataDir otherwise. */
  storeUrl?: string | undefined;
  host: string;
  port: number;
  logger: Logger;
  flags?: Record<string, unknown>;
  extensions?: ControlPlaneExtensionFactory[];
}

export interface RunningControlPlane {
  address: Address;
  server: ControlPlaneServer;
  store: Store;
  push: PushHub;
  close(): Promise<void>;
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<RunningControlPlane> {
  const store = await openStore(o.storeUrl, o.dataDir);
  const audit = (e: AuditEntry) => store.appendAudit({ ...e, time: e.time ?? new Date().toISOString() });
  const server = new ControlPlaneServer({ logger: o.logger, dataDir: o.dataDir, flags: o.flags ?? {}, audit, authenticators: [new TokenAuthenticator(store)], ...(o.extensions ? { extensions: o.extensions } : {}) });
  const push = new PushHub(store, o.logger);
  const registry = new Registry(store);
  const replica = `${hostname()}:${o.port}/${process.pid}`;
  mountApi(server.routes, { store, versions: new ConfigVersions(store, audit), push, registry, audit, replica });
  await push.refresh();
  let address: Address;
  try {
    address = await server.listen(o.host, o.port);
  } catch (err) {
    registry.close();
    push.close();
    await store.close();
    throw err;
  }
  return {
    address,
    server,
    store,
    push,
    async close() {
      push.close();
      registry.close();
      await server.close();
      await store.close();
    },
  };
}
