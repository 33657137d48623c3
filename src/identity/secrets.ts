// Secrets read from files (Kubernetes secret mounts: tokenFile, keyFile), reloaded when they change so credentials
// rotate without a restart. fs.watch on the directory (secret mounts swap a symlink, not the file) plus a poll as
// the fallback where watch events do not arrive. All reads are async. The value is never logged or stringified.
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";

export interface SecretFileOptions {
  /** Poll interval in ms (the fallback); default 10 s. */
  pollMs?: number;
  /** Trim surrounding whitespace (tokens); default true. Keys and certificates keep their bytes. */
  trim?: boolean;
  onChange?: (file: SecretFile) => void;
  onError?: (err: Error, file: SecretFile) => void;
}

export class SecretFile {
  private value: string | undefined;
  private digest = "";
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /** Times the content changed after the first read. */
  reloads = 0;

  constructor(readonly file: string, private readonly opts: SecretFileOptions = {}) {}

  /** Reads the file once (throws with the path and the OS reason, never the content) and starts watching. */
  async start(): Promise<this> {
    await this.reload(true);
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, () => this.schedule());
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      // no inotify here: the poll below still notices changes
    }
    this.poll = setInterval(() => this.schedule(), this.opts.pollMs ?? 10_000);
    this.poll.unref();
    return this;
  }

  /** The current content. */
  get(): string {
    if (this.value === undefined) throw new Error(`secret file ${this.file} has not been read`);
    return this.value;
  }

  /** Re-reads now (also what watch and poll do); resolves once the read is done. */
  refresh(): Promise<void> {
    return this.reload(false);
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  toJSON(): string {
    return `[secret file ${this.file}]`;
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(false).catch(() => {}), 50);
    this.debounce.unref();
  }

  private reload(first: boolean): Promise<void> {
    const run = async () => {
      let text: string;
      try {
        await stat(this.file);
        text = await readFile(this.file, "utf8");
      } catch (err) {
        const e = new Error(`cannot read secret file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? "read failed"}`);
        if (first) throw e;
        this.opts.onError?.(e, this); // keep the last good value: a half-swapped mount must not drop the credential
        return;
      }
      if (this.opts.trim !== false) text = text.trim();
      if (!text) {
        const e = new Error(`secret file ${this.file} is empty`);
        if (first) throw e;
        this.opts.onError?.(e, this);
        return;
      }
      const digest = createHash("sha256").update(text).digest("hex");
      if (digest === this.digest) return;
      this.digest = digest;
      this.value = text;
      if (!first) {
        this.reloads++;
        this.opts.onChange?.(this);
      }
    };
    // Serialize reads: a watch burst yields one read at a time.
    const p = (this.pending ?? Promise.resolve()).then(run, run);
    this.pending = p.catch(() => {});
    return p;
  }
}
