// Issue 7's row: the sidecar pair with mTLS between the sidecars (strict inbound, SPIFFE workload certificates
// from an issuer on loopback, as in test/identity/mtls.test.ts) against the plaintext pair in the same run.
import { startIssuer, type TestIssuer } from "../../test/support/issuer.js";
import type { Scenario } from "../scenario.js";

const TD = "bench.test";
const doc = (kind: string, name: string, spec: string) => `apiVersion: outrigger.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name} }\nspec: ${spec}\n---\n`;
const mesh = doc("Mesh", "mesh", `{ trustDomain: ${TD}, mtls: { mode: strict } }`);

export const mtlsPair: Scenario = {
  name: "mtls-pair",
  description: "the pair with mTLS (strict, SPIFFE workload certs) between outbound and inbound sidecar",
  baseline: "pair",
  start: async (ctx) => {
    const issuer: TestIssuer = await startIssuer({ trustDomain: TD });
    const token = async (name: string, service: string) => issuer.tokenFile(`tok-${name}`, { subject: name, role: "sidecar", service });
    const [inbound, outbound] = [await ctx.freePort(), await ctx.freePort()];
    const app = `127.0.0.1:${ctx.upstream.port}`;
    const identity = async (name: string, service: string) => `identity: { issuer: "${issuer.url}", tokenFile: "${await token(name, service)}" }`;
    const started: { stop(): Promise<void> }[] = [];
    try {
      const serverId = await identity("upstream", "upstream");
      const server = await ctx.startSidecar({
        args: [],
        config: (admin) => mesh + doc("Sidecar", "upstream", `{ service: upstream, app: "${app}", inbound: "127.0.0.1:${inbound}", admin: "127.0.0.1:${admin}", ${serverId} }`),
      });
      started.push(server);
      const clientId = await identity("client", "client");
      const client = await ctx.startSidecar({
        args: [],
        config: (admin) =>
          mesh +
          doc("Sidecar", "client", `{ service: client, app: "${app}", outbound: "127.0.0.1:${outbound}", admin: "127.0.0.1:${admin}", ${clientId} }`) +
          doc("Backend", "upstream", `{ endpoints: [{ address: "127.0.0.1:${inbound}" }] }`),
      });
      started.push(client);
      return {
        url: `http://127.0.0.1:${outbound}/`,
        host: "upstream",
        measured: [client.measured, server.measured],
        readyMs: Math.max(client.readyMs, server.readyMs),
        notes: ["mtls-pair: strict mTLS, ECDSA P-256 workload certificates from an issuer in the runner; pooled keep-alive connections"],
        stop: async () => {
          await client.stop();
          await server.stop();
          await issuer.close();
        },
      };
    } catch (err) {
      for (const s of started) await s.stop();
      await issuer.close();
      throw err;
    }
  },
};
