// The collector's audit log: one JSON line per query (who, when, what, result), appended asynchronously with a
// bounded queue and rotated by size (audit.jsonl -> audit.jsonl.1). Lines that could not be queued are counted.
import { appendFile, mkdir, rename, stat } from "node:fs/promises";
import path from "node:path";

export interface AuditEntry {
  time: string;
  principal: string;
  role: string;
  via: string;
  action: string;
  path: string;
  query: string;
  status: number;
}

export class AuditLog {
  private queue: string[] = [];
  private writing: Promise<void> | undefined;
  dropped = 0;
  written = 0;
  readonly file: string;
  constructor(dir: string, readonly maxBytes = 16 * 1024 * 1024, readonly maxQueue = 10_000) {
    this.file = path.join(dir, "audit.jsonl");
  }

  async open(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
  }

  record(e: AuditEntry): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(JSON.stringify(e) + "\n");
    this.writing ??= this.write().finally(() => (this.writing = undefined));
  }

  private async write(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.join("");
      const n = this.queue.length;
      this.queue = [];
      try {
        const st = await stat(this.file).catch(() => undefined);
        if (st && st.size > this.maxBytes) await rename(this.file, this.file + ".1");
        await appendFile(this.file, batch);
        this.written += n;
      } catch {
        this.dropped += n;
      }
    }
  }

  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }
}
