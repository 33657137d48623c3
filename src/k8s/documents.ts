// Multi-document manifests in and out of injection: order, untouched documents (and their comments) are
// preserved byte for byte; only documents injection changed are re-serialized. Errors name file:line.
import { Document, LineCounter, parseAllDocuments } from "yaml";
import { injectObject, type InjectOptions, type InjectResult } from "./inject.js";
import { describeObject, isObject, type K8sObject } from "./workload.js";

export class ManifestError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

export interface DocumentReport {
  /** e.g. "deployment/web" */
  name: string;
  line: number;
  status: InjectResult["status"];
  reason: string;
  changed: boolean;
}

export interface InjectedManifest {
  /** The documents after injection, in input order (null for empty documents). */
  objects: (K8sObject | null)[];
  reports: DocumentReport[];
  /** YAML text: unchanged documents verbatim, changed ones re-serialized. */
  yaml: string;
}

/** Injects every document of a YAML or JSON manifest (JSON is YAML; a JSON `List` is handled as one document). */
export function injectManifest(text: string, opts: InjectOptions, file = "<stdin>"): InjectedManifest {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: (K8sObject | null)[] = [];
  const reports: DocumentReport[] = [];
  const parts: string[] = [];
  for (const doc of list) {
    const line = lc.linePos((doc.contents as { range?: number[] } | null)?.range?.[0] ?? doc.range[0]).line;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw new ManifestError(`${file}:${lc.linePos(e.pos[0]).line}: YAML: ${e.message.split("\n")[0]}`);
    }
    const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
    if (value === null || value === undefined) {
      objects.push(null);
      continue;
    }
    if (!isObject(value)) throw new ManifestError(`${file}:${line}: a Kubernetes object must be a mapping with apiVersion and kind`);
    let result: InjectResult;
    try {
      result = injectObject(value, opts);
    } catch (err) {
      throw new ManifestError(`${file}:${line}: ${describeObject(value)}: ${(err as Error).message}`);
    }
    objects.push(result.object);
    reports.push({ name: describeObject(result.object), line, status: result.status, reason: result.reason, changed: result.changed });
    parts.push(result.changed ? reserialize(result.object, leadingComment(doc)) : doc.toString({ lineWidth: 0 }).replace(/^---\n?/, "").trimEnd());
  }
  return { objects, reports, yaml: parts.length ? parts.join("\n---\n") + "\n" : "" };
}

/** JSON output: one object as itself, several as a v1 List (what `kubectl apply -f -` accepts). */
export function manifestJson(objects: (K8sObject | null)[]): unknown {
  const present = objects.filter((o): o is K8sObject => o !== null);
  return present.length === 1 ? present[0] : { apiVersion: "v1", kind: "List", items: present };
}

/** A changed document as fresh YAML, keeping the comment that introduced it; no anchors/aliases. */
function reserialize(object: K8sObject, commentBefore: string | null | undefined): string {
  const out = new Document(object, { aliasDuplicateObjects: false });
  if (commentBefore) out.commentBefore = commentBefore;
  return out.toString({ lineWidth: 0 }).trimEnd();
}

function leadingComment(doc: { commentBefore?: string | null; contents: unknown }): string | undefined {
  const contents = doc.contents as { commentBefore?: string | null; items?: { key?: { commentBefore?: string | null } }[] } | null;
  return doc.commentBefore ?? contents?.commentBefore ?? contents?.items?.[0]?.key?.commentBefore ?? undefined;
}
