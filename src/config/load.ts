// YAML/JSON text -> validated resources. Every error names file:line:column and the field path,
// with "did you mean" for unknown fields. The sidecar, `outrigger validate` and the control plane share it.
import { readFile } from "node:fs/promises";
import { LineCounter, parseAllDocuments, isMap, isSeq, type Document, type Node as YamlNode } from "yaml";
import type { TSchema } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { API_VERSION, KINDS, checkerFor, isKind, type AnyResource } from "./schema.js";

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. spec.rules[0].backendRefs[1].weight */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
  }
}

export const formatIssue = (i: ConfigIssue) => `${i.file}:${i.line}:${i.column} ${i.path || "(document)"}: ${i.message}`;

export interface LoadedResource {
  resource: AnyResource;
  file: string;
  line: number;
}

export async function loadFiles(files: string[]): Promise<LoadedResource[]> {
  const out: LoadedResource[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      issues.push({ file, line: 0, column: 0, path: "", message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    try {
      out.push(...parseResources(text, file));
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return out;
}

/** Parses one or more YAML/JSON documents (separated by `---`) into validated resources. */
export function parseResources(text: string, file = "<input>"): LoadedResource[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const out: LoadedResource[] = [];
  const pos = (offset: number | undefined) => {
    const p = lc.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const doc of docList as Document.Parsed[]) {
    for (const e of doc.errors) issues.push({ file, ...pos(e.pos[0]), path: "", message: `YAML: ${e.message.split("\n")[0]}` });
    if (doc.errors.length) continue;
    const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
    if (value === null || value === undefined) continue; // empty document, e.g. a trailing ---
    const at = (path: (string | number)[], value = false) => pos(nodeAt(doc, path, value)?.range?.[0] ?? doc.contents?.range?.[0]);
    if (typeof value !== "object" || Array.isArray(value)) {
      issues.push({ file, ...at([]), path: "", message: "a resource must be a mapping with apiVersion, kind, metadata and spec" });
      continue;
    }
    const v = value as Record<string, unknown>;
    if (v.apiVersion !== API_VERSION) {
      issues.push({ file, ...at(["apiVersion"], true), path: "apiVersion", message: `must be "${API_VERSION}" (got ${JSON.stringify(v.apiVersion)})` });
      continue;
    }
    if (!isKind(v.kind)) {
      const hint = didYouMean(String(v.kind), Object.keys(KINDS));
      issues.push({ file, ...at(["kind"], true), path: "kind", message: `unknown kind ${JSON.stringify(v.kind)}${hint}; known kinds: ${Object.keys(KINDS).join(", ")}` });
      continue;
    }
    const kind = v.kind;
    const checker = checkerFor(kind)!;
    if (!checker.Check(v)) {
      const seen = new Set<string>();
      for (const e of checker.Errors(v)) {
        const segs = e.path.split("/").slice(1).map(unescapePointer);
        const path = segs.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
        if (seen.has(path)) continue; // first (most specific) error per field is enough
        seen.add(path);
        // An unknown field is pointed at by its key; a bad value by the value itself.
        const unknownField = e.type === ValueErrorType.ObjectAdditionalProperties || e.message === "Unexpected property";
        issues.push({ file, ...at(segs.map((s) => (/^\d+$/.test(s) ? Number(s) : s)), !unknownField), path, message: describe(e.type, e.message, e.schema, segs, (KINDS as Record<string, TSchema>)[kind]!) });
      }
      continue;
    }
    out.push({ resource: v as AnyResource, file, line: at([]).line });
  }
  if (issues.length) throw new ConfigError(issues);
  return out;
}

function unescapePointer(s: string) {
  return s.replace(/~1/g, "/").replace(/~0/g, "~");
}

function nodeAt(doc: Document.Parsed, path: (string | number)[], value = false): { range?: [number, number, number] } | undefined {
  // For an unknown key, point at the key itself rather than its value.
  let node: YamlNode | null | undefined = doc.contents as YamlNode;
  let last: { range?: [number, number, number] } | undefined = node as never;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === seg);
      if (!pair) return last;
      last = (pair.key as never) ?? last;
      node = pair.value as YamlNode;
      if (node && (node as never as { range?: unknown }).range && (value || path[path.length - 1] !== seg)) last = node as never;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg] as YamlNode;
      if (!node) return last;
      last = node as never;
    } else return last;
  }
  return last;
}

function describe(type: ValueErrorType, message: string, schema: any, segs: string[], root: TSchema): string {
  if (type === ValueErrorType.ObjectAdditionalProperties || message === "Unexpected property") {
    const key = segs[segs.length - 1] ?? "";
    const known = knownKeys(root, segs.slice(0, -1));
    return `unknown field "${key}"${didYouMean(key, known)}${known.length ? `; allowed: ${known.join(", ")}` : ""}`;
  }
  if (schema && Array.isArray(schema.anyOf)) {
    const consts = (schema.anyOf as { const?: unknown }[]).map((s) => s.const).filter((c) => c !== undefined);
    if (consts.length) return `must be one of ${consts.map((c) => JSON.stringify(c)).join(", ")}`;
  }
  if (type === ValueErrorType.StringPattern && schema?.description) {
    return `${message}: ${schema.description}`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function knownKeys(root: TSchema, segs: string[]): string[] {
  let s: any = root;
  for (const seg of segs) {
    if (!s) return [];
    if (s.type === "array") s = s.items;
    else if (s.properties && seg in s.properties) s = s.properties[seg];
    else if (s.patternProperties) s = Object.values(s.patternProperties)[0];
    else if (s.additionalProperties && typeof s.additionalProperties === "object") s = s.additionalProperties;
    else return [];
  }
  if (s?.type === "array") s = s.items;
  return s?.properties ? Object.keys(s.properties) : [];
}

export function didYouMean(word: string, candidates: string[]): string {
  let best = "";
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
