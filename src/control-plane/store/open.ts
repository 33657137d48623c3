// Picks the store from --store: redis://… (shared, several replicas) or the embedded file store in --data.
import type { Store } from "./store.js";
import { FileStore } from "./file.js";

export async function openStore(url: string | undefined, dataDir: string): Promise<Store> {
  let store: Store;
  if (url && /^rediss?:\/\//.test(url)) {
    const { RedisStore } = await import("./redis.js");
    store = new RedisStore(url);
  } else if (url && url !== "file") throw new Error(`--store must be redis://HOST:PORT[/DB] or omitted for the file store (got "${url}")`);
  else store = new FileStore(dataDir);
  await store.open();
  return store;
}
