// `outrigger ca`: create the mesh CA (or adopt an intermediate), show it, and issue server/workload certificates.
import { readFile, mkdir, writeFile, chmod } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CaError, CertificateAuthority, CA_FILES } from "../identity/ca.js";
import { parseSpiffeId } from "../identity/spiffe.js";
import { parseDuration } from "../config/units.js";
import { EXIT, fail, green, parseFormat, print } from "./output.js";

const DEFAULT_DIR = process.env.OUTRIGGER_CA_DIR ?? ".outrigger/ca";
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const ca = program.command("ca").description("The mesh certificate authority: init, show, issue");

  ca.command("init")
    .description("Create a root CA, or adopt an existing intermediate (key + chain); files are written 0600")
    .option("--dir <dir>", "where the CA lives", DEFAULT_DIR)
    .option("--trust-domain <domain>", "SPIFFE trust domain of the mesh", "cluster.local")
    .option("--days <n>", "validity of a created root, in days", "3650")
    .option("--key <file>", "an intermediate CA's private key (PEM); with --chain")
    .option("--chain <file>", "the intermediate's chain (PEM: intermediate first, root last); with --key")
    .option("--force", "replace an existing CA")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .addHelpText("after", "\nExamples:\n  outrigger ca init --dir /etc/outrigger/ca --trust-domain prod.example.com\n  outrigger ca init --dir ca --trust-domain prod.example.com --key int.key --chain int-chain.pem")
    .action(async (o: { dir: string; trustDomain: string; days: string; key?: string; chain?: string; force?: boolean; output: string }) => {
      const format = parseFormat(o.output);
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 1) fail(`--days must be a positive integer (got "${o.days}")`, EXIT.USAGE);
      try {
        const keyPem = o.key ? await readInput(o.key, "--key") : undefined;
        const chainPem = o.chain ? await readInput(o.chain, "--chain") : undefined;
        const authority = await CertificateAuthority.init(o.dir, { trustDomain: o.trustDomain, days, ...(keyPem ? { keyPem } : {}), ...(chainPem ? { chainPem } : {}), ...(o.force ? { force: true } : {}) });
        const info = describe(authority);
        print(info, format, () => `${green("created")} ${info.kind} CA for trust domain ${info.trustDomain} in ${o.dir}\n  subject ${info.subject}\n  valid until ${info.validTo}\n  trust bundle ${path.join(o.dir, CA_FILES.bundle)}`);
      } catch (err) {
        fail((err as Error).message, err instanceof CaError ? EXIT.FAILURE : EXIT.FAILURE);
      }
    });

  ca.command("show")
    .description("Show the CA's trust domain, subject, validity and fingerprint")
    .option("--dir <dir>", "where the CA lives", DEFAULT_DIR)
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (o: { dir: string; output: string }) => {
      try {
        const info = describe(await CertificateAuthority.load(o.dir));
        print(info, parseFormat(o.output));
      } catch (err) {
        fail((err as Error).message);
      }
    });

  ca.command("issue")
    .description("Issue a certificate and key into a directory (server certificates for the control plane and collector, or a workload's files)")
    .option("--dir <dir>", "where the CA lives", DEFAULT_DIR)
    .requiredOption("--out <dir>", "directory for tls.key, tls.crt (leaf + chain) and ca.crt (trust bundle)")
    .option("--dns <name>", "DNS SAN; repeatable", collect)
    .option("--ip <address>", "IP SAN; repeatable", collect)
    .option("--spiffe-id <id>", "URI SAN: spiffe://<trust-domain>/ns/<namespace>/sa/<service>")
    .option("--ttl <duration>", "lifetime, e.g. 24h or 2160h", "2160h")
    .action(async (o: { dir: string; out: string; dns?: string[]; ip?: string[]; spiffeId?: string; ttl: string }) => {
      let ttlMs: number;
      try {
        ttlMs = parseDuration(o.ttl);
      } catch (err) {
        fail(`--ttl: ${(err as Error).message}`, EXIT.USAGE);
      }
      if (!o.dns?.length && !o.ip?.length && !o.spiffeId) fail("give at least one of --dns, --ip or --spiffe-id", EXIT.USAGE);
      if (o.spiffeId && !parseSpiffeId(o.spiffeId)) fail(`--spiffe-id "${o.spiffeId}" is not spiffe://<trust-domain>/ns/<namespace>/sa/<service>`, EXIT.USAGE);
      try {
        const authority = await CertificateAuthority.load(o.dir);
        const issued = await authority.issueServer({ dnsNames: o.dns ?? [], ips: o.ip ?? [], ttlMs, ...(o.spiffeId ? { spiffeId: o.spiffeId } : {}) });
        await mkdir(o.out, { recursive: true, mode: 0o700 });
        const put = async (f: string, s: string) => {
          await writeFile(path.join(o.out, f), s, { mode: 0o600 });
          await chmod(path.join(o.out, f), 0o600);
        };
        await put("tls.key", issued.key);
        await put("tls.crt", issued.certificate + issued.chain.join(""));
        await put("ca.crt", issued.trustBundle.join(""));
        process.stdout.write(`${green("issued")} ${[...(o.dns ?? []), ...(o.ip ?? []), ...(o.spiffeId ? [o.spiffeId] : [])].join(", ")} until ${issued.notAfter} -> ${o.out}/{tls.key,tls.crt,ca.crt}\n`);
      } catch (err) {
        fail((err as Error).message);
      }
    });
}

async function readInput(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    fail(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.USAGE);
  }
}

function describe(a: CertificateAuthority) {
  return {
    trustDomain: a.trustDomain,
    kind: a.intermediates.length ? "intermediate" : "root",
    subject: a.cert.subject.replace(/\n/g, ", "),
    validFrom: new Date(a.cert.validFrom).toISOString(),
    validTo: new Date(a.cert.validTo).toISOString(),
    fingerprint256: a.cert.fingerprint256,
    dir: a.dir,
  };
}
