// The demo's control plane: tokens bootstrapped straight into its file store (operator for `outrigger apply`,
// viewer for the collector's timeline, one sidecar token per instance), then the initial mesh applied.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createToken } from "../control-plane/auth/tokens.js";
import { openStore } from "../control-plane/store/open.js";
import type { DemoLayout } from "./mesh.js";

export interface DemoControlPlane {
  url: string;
  dataDir: string;
  operatorToken: string;
  viewerTokenFile: string;
  sidecarTokenFiles: Map<string, string>;
  /** Applies a file as a new version; returns the version number. */
  apply(file: string, message: string): Promise<number>;
}

export async function bootstrapControlPlane(dir: string, l: DemoLayout): Promise<DemoControlPlane> {
  const dataDir = path.join(dir, "control-plane");
  const tokensDir = path.join(dir, "tokens");
  await mkdir(dataDir, { recursive: true });
  await mkdir(tokensDir, { recursive: true });
  const store = await openStore(undefined, dataDir);
  const write = async (name: string, token: string) => {
    const f = path.join(tokensDir, `${name}.token`);
    await writeFile(f, token + "\n", { mode: 0o600 });
    return f;
  };
  let operatorToken: string;
  let viewerTokenFile: string;
  const sidecarTokenFiles = new Map<string, string>();
  try {
    const createdBy = "outrigger demo";
    operatorToken = (await createToken(store, { role: "operator", name: "demo-operator", createdBy })).token;
    await write("operator", operatorToken);
    viewerTokenFile = await write("collector-viewer", (await createToken(store, { role: "viewer", name: "collector", createdBy })).token);
    for (const s of l.services) sidecarTokenFiles.set(s.name, await write(s.name, (await createToken(store, { role: "sidecar", service: s.service, name: `${s.name}-sidecar`, createdBy })).token));
  } finally {
    await store.close();
  }
  const url = `http://127.0.0.1:${l.controlPlane}`;
  return {
    url,
    dataDir,
    operatorToken,
    viewerTokenFile,
    sidecarTokenFiles,
    async apply(file, message) {
      const r = await fetch(`${url}/v1/apply`, {
        method: "POST",
        headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
        body: JSON.stringify({ files: [{ name: path.basename(file), text: await readFile(file, "utf8") }], message }),
      });
      const body = (await r.json().catch(() => ({}))) as { version?: number; error?: { message?: string } };
      if (!r.ok) throw new Error(`applying ${file} to the control plane failed: HTTP ${r.status} ${body.error?.message ?? ""}`);
      return body.version ?? 0;
    },
  };
}
