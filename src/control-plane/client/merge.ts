// How a sidecar's config is assembled from its two sources. The control plane serves the mesh-wide
// resources (Route, Backend, Mesh, policies); the sidecar's own Sidecar resource is always local. A local
// resource of the same kind and name as a pushed one wins (a local override, e.g. --endpoint for a test
// double); registry endpoints are added to the Backend of the same name, except this sidecar's own listeners.
import type { AnyResource } from "../../config/schema.js";
import { parseAddress } from "../../config/units.js";
import { keyOf } from "../diff.js";
import type { Snapshot } from "../push.js";

export function mergeResources(local: readonly AnyResource[], snap: Pick<Snapshot, "resources" | "endpoints">): AnyResource[] {
  const byKey = new Map<string, AnyResource>();
  for (const r of snap.resources) if (r.kind !== "Sidecar") byKey.set(keyOf(r), r);
  for (const r of local) byKey.set(keyOf(r), r);
  const sidecar = local.find((r) => r.kind === "Sidecar");
  const own = new Set<string>();
  if (sidecar) {
    const s = sidecar.spec as { inbound?: string | number; outbound?: string | number; admin?: string | number };
    for (const a of [s.inbound, s.outbound, s.admin]) if (a !== undefined) own.add(parseAddress(a).key);
  }
  for (const [key, r] of byKey) {
    if (r.kind !== "Backend") continue;
    const registered = (snap.endpoints[r.metadata.name] ?? []).filter((e) => !own.has(e.address));
    if (!registered.length) continue;
    const known = new Set(r.spec.endpoints.map((e) => parseAddress(e.address).key));
    const extra = registered.filter((e) => !known.has(e.address)).map((e) => ({ address: e.address, ...(Object.keys(e.labels).length ? { labels: e.labels } : {}) }));
    byKey.set(key, { ...r, spec: { ...r.spec, endpoints: [...r.spec.endpoints, ...extra] } });
  }
  return [...byKey.values()];
}
