// The last config a sidecar applied from the control plane, kept on disk (written atomically) so a restart
// without the control plane comes back with it instead of an empty mesh.
import { readFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../store/atomic.js";
import type { Snapshot } from "../push.js";

export async function readLastKnownGood(path: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const v = JSON.parse(text) as Snapshot;
  if (typeof v?.version !== "number" || !Array.isArray(v.resources) || typeof v.endpoints !== "object") throw new Error(`${path}: not a last-known-good snapshot`);
  return v;
}

export async function writeLastKnownGood(path: string, snap: Snapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(snap), 0o600);
}
