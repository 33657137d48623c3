// `outrigger inject -f FILE|-`: adds the sidecar to every workload in a manifest (native sidecar by default).
import { readFile } from "node:fs/promises";
import { text as streamText } from "node:stream/consumers";
import type { Command } from "commander";
import { DEFAULT_OPTIONS, type InjectOptions } from "../k8s/inject.js";
import { injectManifest, manifestJson, ManifestError } from "../k8s/documents.js";
import { EXIT, dim, fail } from "./output.js";

interface InjectCliOptions {
  filename: string;
  output: string;
  legacy?: boolean;
  image: string;
  namespace: string;
  trustDomain: string;
  controlPlane: string;
  quiet?: boolean;
}

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`not a port: ${v}`);
  return n;
};

export function register(program: Command): void {
  program
    .command("inject")
    .description("Add the Outrigger sidecar to Kubernetes workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, List)")
    .requiredOption("-f, --filename <file>", "manifest to read (YAML or JSON, several documents); - for stdin")
    .option("-o, --output <format>", "yaml or json", "yaml")
    .option("--legacy", "for clusters before 1.29: a regular container with a postStart wait instead of a native sidecar")
    .option("--image <image>", "sidecar image", DEFAULT_OPTIONS.image)
    .option("--namespace <ns>", "namespace for the SPIFFE id when a document sets none", DEFAULT_OPTIONS.namespace)
    .option("--trust-domain <domain>", "SPIFFE trust domain", DEFAULT_OPTIONS.trustDomain)
    .option("--control-plane <url>", "control-plane URL the sidecar bootstraps from", DEFAULT_OPTIONS.controlPlane)
    .option("--inbound-port <port>", "sidecar inbound port", port, DEFAULT_OPTIONS.ports.inbound)
    .option("--outbound-port <port>", "sidecar outbound (HTTP_PROXY) port", port, DEFAULT_OPTIONS.ports.outbound)
    .option("--admin-port <port>", "sidecar admin port (probes, metrics)", port, DEFAULT_OPTIONS.ports.admin)
    .option("-q, --quiet", "no per-document summary on stderr")
    .addHelpText(
      "after",
      "\nInjecting twice changes nothing; workloads annotated or labelled outrigger.dev/inject=false are left alone.\n" +
        "Examples:\n  outrigger inject -f deployment.yaml | kubectl apply -f -\n  kubectl get deploy web -o yaml | outrigger inject -f - --legacy -o json",
    )
    .action(async (opts: InjectCliOptions & { inboundPort: number; outboundPort: number; adminPort: number }) => {
      if (opts.output !== "yaml" && opts.output !== "json") fail(`-o must be yaml or json (got "${opts.output}")`, EXIT.USAGE);
      const file = opts.filename === "-" ? "<stdin>" : opts.filename;
      let text: string;
      try {
        text = opts.filename === "-" ? await streamText(process.stdin) : await readFile(opts.filename, "utf8");
      } catch (err) {
        fail(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE);
      }
      const injectOpts: InjectOptions = {
        ...DEFAULT_OPTIONS,
        mode: opts.legacy ? "legacy" : "native",
        image: opts.image,
        namespace: opts.namespace,
        trustDomain: opts.trustDomain,
        controlPlane: opts.controlPlane,
        ports: { inbound: opts.inboundPort, outbound: opts.outboundPort, admin: opts.adminPort },
      };
      try {
        const out = injectManifest(text, injectOpts, file);
        process.stdout.write(opts.output === "json" ? JSON.stringify(manifestJson(out.objects), null, 2) + "\n" : out.yaml);
        if (!opts.quiet) for (const r of out.reports) process.stderr.write(dim(`${file}:${r.line} ${r.name}: ${r.reason}\n`, process.stderr));
      } catch (err) {
        if (err instanceof ManifestError) fail(err.message, EXIT.FAILURE);
        throw err;
      }
    });
}
