// CLI output conventions: -o json|yaml|table, colour only on a TTY and never with NO_COLOR, exit codes.
import { stringify } from "yaml";

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, UNAVAILABLE: 3, DENIED: 4 } as const;

export const useColour = (stream: NodeJS.WriteStream = process.stdout) => Boolean(stream.isTTY) && !("NO_COLOR" in process.env) && process.env.TERM !== "dumb";

const paint = (code: number) => (s: string, stream?: NodeJS.WriteStream) => (useColour(stream) ? `\x1b[${code}m${s}\x1b[0m` : s);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

export type OutputFormat = "json" | "yaml" | "table";

export function parseFormat(v: string): OutputFormat {
  if (v === "json" || v === "yaml" || v === "table") return v;
  throw new Error(`-o must be json, yaml or table (got "${v}")`);
}

export function print(value: unknown, format: OutputFormat, table?: () => string): void {
  if (format === "json") process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else if (format === "yaml") process.stdout.write(stringify(value));
  else process.stdout.write((table ? table() : stringify(value)) + "\n");
}

/** Fixed-width table that fits a terminal. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [bold(line(headers)), ...rows.map(line)].join("\n");
}

export function fail(message: string, code: number = EXIT.FAILURE): never {
  process.stderr.write(`${red("error:", process.stderr)} ${message}\n`);
  process.exit(code);
}
