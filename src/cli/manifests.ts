// `-f FILE|DIR` for apply and diff: a directory means its *.yaml, *.yml and *.json files (not recursive), sorted.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export async function readManifests(paths: string[]): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  for (const p of paths) {
    const s = await stat(p).catch((err: Error) => {
      throw new Error(`-f ${p}: ${err.message}`);
    });
    const files = s.isDirectory() ? (await readdir(p)).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => join(p, f)) : [p];
    if (s.isDirectory() && !files.length) throw new Error(`-f ${p}: the directory has no .yaml, .yml or .json files`);
    for (const f of files) out.push({ name: f, text: await readFile(f, "utf8") });
  }
  return out;
}
