// This sidecar's workload identity: an X509-SVID from the issuer (own ECDSA P-256 key, CSR + bootstrap token,
// renewed at 2/3 of its lifetime) or from watched certificate files. Listeners and the upstream connector read
// the current material; rotation swaps it without touching established connections.
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { Logger } from "pino";
import { Agent, request } from "undici";
import type { IdentityPlan } from "../config/compile/security.js";
import { SecretFile } from "./secrets.js";
import { spiffeIdFromAltNames } from "./spiffe.js";
import { splitCertificates } from "./pem.js";

export interface IdentityMaterial {
  spiffeId: string;
  /** PEM private key; in memory only when it came from the issuer. */
  key: string;
  /** Leaf followed by intermediates. */
  cert: string;
  /** Trust anchors for peers. */
  ca: string;
  notBefore: number;
  notAfter: number;
  serial: string;
  /** Increments on every swap; caches key on it. */
  generation: number;
}

export interface WorkloadIdentityOptions {
  logger: Logger;
  /** Fraction of the lifetime after which to renew (default 2/3). */
  renewAt?: number;
  /** Secret-file poll interval (the fallback to fs.watch). */
  pollMs?: number;
  /** Counters: renewals by result. */
  onRenewal?: (result: "ok" | "failed") => void;
}

export class WorkloadIdentity {
  private material: IdentityMaterial | undefined;
  private readonly rotateListeners: ((m: IdentityMaterial) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;
  private lastError: string | undefined;
  private token: SecretFile | undefined;
  private caFile: SecretFile | undefined;
  private certFile: SecretFile | undefined;
  private keyFile: SecretFile | undefined;
  private agent: Agent | undefined;
  renewals = 0;

  constructor(readonly plan: IdentityPlan, private readonly opts: WorkloadIdentityOptions) {}

  current(): IdentityMaterial | undefined {
    return this.material;
  }

  /** Called after every swap (listeners call server.setSecureContext; the connector rebuilds for new connections). */
  onRotate(fn: (m: IdentityMaterial) => void): void {
    if (this.rotateListeners.length < 16) this.rotateListeners.push(fn);
  }

  status() {
    const m = this.material;
    return {
      spiffeId: this.plan.spiffeId,
      source: this.plan.issuer ? "issuer" : "files",
      ready: Boolean(m && m.notAfter > Date.now()),
      ...(m ? { serial: m.serial, notAfter: new Date(m.notAfter).toISOString() } : {}),
      renewals: this.renewals,
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Gets the first certificate, waiting at most `waitMs`; keeps trying in the background after that. */
  async start(waitMs = 10_000): Promise<void> {
    const watchOpts = { ...(this.opts.pollMs ? { pollMs: this.opts.pollMs } : {}), onError: (e: Error) => this.opts.logger.warn({ event: "identity.secret_unreadable", err: e.message }, "secret file unreadable; keeping the last good value") };
    if (this.plan.caFile) this.caFile = await new SecretFile(this.plan.caFile, { ...watchOpts, trim: false, onChange: () => this.onFilesChanged("caFile") }).start();
    if (this.plan.issuer) {
      this.token = await new SecretFile(this.plan.tokenFile!, { ...watchOpts, onChange: () => this.opts.logger.info({ event: "identity.token_reloaded", file: this.plan.tokenFile }, "bootstrap token file changed; the next request uses it") }).start();
      if (this.plan.issuer.startsWith("https:")) this.agent = this.buildAgent();
      const first = this.renewLoop();
      await Promise.race([first, new Promise((r) => setTimeout(r, waitMs).unref())]);
    } else {
      this.certFile = await new SecretFile(this.plan.certFile!, { ...watchOpts, trim: false, onChange: () => this.onFilesChanged("certFile") }).start();
      this.keyFile = await new SecretFile(this.plan.keyFile!, { ...watchOpts, trim: false, onChange: () => this.onFilesChanged("keyFile") }).start();
      this.install(this.fromFiles());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const f of [this.token, this.caFile, this.certFile, this.keyFile]) f?.close();
    await this.agent?.close().catch(() => {});
  }

  /** Renews now (tests; an operator forcing rotation). */
  async renewNow(): Promise<IdentityMaterial> {
    const m = await this.fetchCertificate();
    this.install(m);
    return m;
  }

  private async renewLoop(): Promise<void> {
    if (this.closed) return;
    let delay: number;
    try {
      const m = await this.fetchCertificate();
      this.install(m);
      this.failures = 0;
      this.lastError = undefined;
      this.opts.onRenewal?.("ok");
      const now = Date.now();
      delay = Math.max(100, (m.notAfter - now) * (this.opts.renewAt ?? 2 / 3));
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.opts.onRenewal?.("failed");
      this.opts.logger.warn({ event: "identity.renew_failed", err: this.lastError, failures: this.failures }, "workload certificate request failed; retrying");
      const left = this.material ? this.material.notAfter - Date.now() : Infinity;
      delay = Math.max(100, Math.min(2 ** Math.min(this.failures, 5) * 500, 30_000, left / 4));
    }
    if (this.closed) return;
    this.timer = setTimeout(() => void this.renewLoop(), delay);
    this.timer.unref();
  }

  private buildAgent(): Agent {
    return new Agent({ connect: { ...(this.caFile ? { ca: this.caFile.get() } : {}), timeout: 5_000 }, keepAliveTimeout: 1_000 });
  }

  private async fetchCertificate(): Promise<IdentityMaterial> {
    const { createCsr, generateP256 } = await import("./x509.js"); // the X.509 library loads only with an issuer
    const key = await generateP256(); // a fresh key per certificate; it never leaves this process
    const csr = await createCsr(this.plan.spiffeId, key);
    const url = new URL("/v1/certificates", this.plan.issuer);
    let res;
    try {
      res = await request(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token!.get()}` },
        body: JSON.stringify({ csr }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
        ...(this.agent ? { dispatcher: this.agent } : {}),
      });
    } catch (err) {
      throw new Error(`issuer ${url.origin} unreachable: ${(err as { code?: string }).code ?? (err as Error).message}`);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let reason = text.slice(0, 300);
      try {
        reason = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? reason;
      } catch {}
      throw new Error(`issuer answered ${res.statusCode}: ${reason}`);
    }
    const body = JSON.parse(text) as { certificate: string; chain?: string[]; trustBundle?: string[] };
    const ca = [...(body.trustBundle ?? []), ...(this.caFile ? [this.caFile.get()] : [])].join("");
    return this.check({ key: key.pem, cert: body.certificate + (body.chain ?? []).join(""), ca });
  }

  private fromFiles(): IdentityMaterial {
    return this.check({ key: this.keyFile!.get(), cert: this.certFile!.get(), ca: this.caFile!.get() });
  }

  private onFilesChanged(which: string): void {
    if (this.closed) return;
    if (which === "caFile" && this.plan.issuer) {
      const old = this.agent;
      this.agent = this.plan.issuer.startsWith("https:") ? this.buildAgent() : undefined;
      void old?.close().catch(() => {});
      return;
    }
    if (this.plan.issuer) return;
    try {
      this.install(this.fromFiles());
    } catch (err) {
      // A rotation writes the certificate and the key one after the other: wait for the pair to match.
      this.opts.logger.warn({ event: "identity.files_inconsistent", file: which, err: (err as Error).message }, "certificate files changed but do not form a valid pair yet; keeping the current one");
    }
  }

  /** The leaf must be ours: matching key, our SPIFFE ID, and still valid. */
  private check(m: { key: string; cert: string; ca: string }): IdentityMaterial {
    const certs = splitCertificates(m.cert);
    if (!certs.length) throw new Error("no certificate in the certificate chain");
    const leaf = new X509Certificate(certs[0]!);
    if (!leaf.checkPrivateKey(createPrivateKey(m.key))) throw new Error("the private key does not match the certificate");
    const id = spiffeIdFromAltNames(leaf.subjectAltName);
    if (id !== this.plan.spiffeId) throw new Error(`the certificate is for ${id ?? "no SPIFFE ID"}, not ${this.plan.spiffeId}`);
    const notAfter = new Date(leaf.validTo).getTime();
    if (notAfter <= Date.now()) throw new Error(`the certificate expired at ${leaf.validTo}`);
    if (!splitCertificates(m.ca).length) throw new Error("no trust anchors (caFile or the issuer's trust bundle)");
    return { spiffeId: id, ...m, notBefore: new Date(leaf.validFrom).getTime(), notAfter, serial: leaf.serialNumber, generation: (this.material?.generation ?? 0) + 1 };
  }

  private install(m: IdentityMaterial): void {
    const previous = this.material;
    this.material = m;
    this.opts.logger.info({ event: "identity.certificate", spiffeId: m.spiffeId, serial: m.serial, notAfter: new Date(m.notAfter).toISOString(), rotated: Boolean(previous) }, previous ? "workload certificate rotated" : "workload certificate installed");
    if (previous) this.renewals++;
    for (const fn of this.rotateListeners) fn(m);
  }
}
