// Copies the dashboard's browser libraries (preact, preact/hooks, htm, uPlot) from node_modules into web/vendor/
// at build time, so the collector serves everything itself: no CDN, nothing fetched at run time.
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Packages are looked up where npm installs them (some, like htm, do not export their package.json).
const pkgDir = (name) => path.join(root, "node_modules", name);
const out = path.join(root, "web", "vendor");
const FILES = [
  ["preact", "dist/preact.mjs", "preact.mjs"],
  ["preact", "hooks/dist/hooks.mjs", "preact-hooks.mjs"],
  ["htm", "dist/htm.mjs", "htm.mjs"],
  ["uplot", "dist/uPlot.esm.js", "uPlot.esm.js"],
  ["uplot", "dist/uPlot.min.css", "uPlot.min.css"],
];

await mkdir(out, { recursive: true });
try {
  for (const [pkg, from, to] of FILES) await copyFile(path.join(pkgDir(pkg), from), path.join(out, to));
} catch (err) {
  // An install without devDependencies ships the already-vendored files (web/vendor is in the package).
  if (err.code !== "ENOENT" && err.code !== "MODULE_NOT_FOUND") throw err;
  console.warn(`vendor-web: ${err.message}; keeping web/vendor as shipped`);
}
