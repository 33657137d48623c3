// Options and error handling shared by the commands that talk to the control plane (apply, get, history…):
// --server/OUTRIGGER_CONTROL_PLANE, --token/OUTRIGGER_TOKEN or --token-file, and exit codes by failure kind.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ApiClient, ApiError } from "../control-plane/api/client.js";
import { EXIT, fail, parseFormat, type OutputFormat } from "./output.js";

export interface RemoteOptions {
  server?: string;
  token?: string;
  tokenFile?: string;
  output: string;
}

export const DEFAULT_SERVER = "http://127.0.0.1:15010";

export function withRemote(cmd: Command, defaultFormat = "table"): Command {
  return cmd
    .option("-s, --server <url[,url]>", `control-plane URL(s), tried in order (env OUTRIGGER_CONTROL_PLANE; default ${DEFAULT_SERVER})`)
    .option("--token <token>", "bearer token (env OUTRIGGER_TOKEN)")
    .option("--token-file <file>", "read the bearer token from a file")
    .option("-o, --output <format>", "table, json or yaml", defaultFormat)
    .addHelpText("after", "\nExit codes: 0 ok, 1 rejected or not found, 2 usage, 3 control plane unreachable, 4 unauthenticated or forbidden.");
}

export function client(o: RemoteOptions): ApiClient {
  const urls = (o.server ?? process.env.OUTRIGGER_CONTROL_PLANE ?? DEFAULT_SERVER).split(",").map((s) => s.trim()).filter(Boolean);
  let token = o.token ?? process.env.OUTRIGGER_TOKEN;
  if (o.tokenFile) {
    try {
      token = readFileSync(o.tokenFile, "utf8").trim();
    } catch (err) {
      fail(`--token-file: ${(err as Error).message}`, EXIT.USAGE);
    }
  }
  return new ApiClient(urls, token);
}

export function format(o: RemoteOptions): OutputFormat {
  try {
    return parseFormat(o.output);
  } catch (err) {
    fail((err as Error).message, EXIT.USAGE);
  }
}

/** Prints an API failure and exits with the matching code. */
export function failApi(err: unknown): never {
  if (err instanceof ApiError) {
    const code = err.status === 0 ? EXIT.UNAVAILABLE : err.status === 401 || err.status === 403 ? EXIT.DENIED : err.status >= 500 ? EXIT.UNAVAILABLE : EXIT.FAILURE;
    fail(`${err.code}: ${err.message}`, code);
  }
  fail((err as Error).message);
}

/** Shortens a cell so tables fit a terminal. */
export const cell = (s: unknown, max = 48): string => {
  const t = s === undefined || s === null ? "" : String(s).replace(/\s+/g, " ");
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

export function ago(iso: string | number): string {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
