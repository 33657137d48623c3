// Dockerfile lint rules as a test (hadolint is not available here, and Docker cannot run): pinned bases,
// multi-stage with production dependencies only, a numeric non-root USER, no secrets, a HEALTHCHECK, and a
// .dockerignore that keeps secrets and build output out of the context. The rules are also run against a bad
// Dockerfile, so each one is shown to be able to fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { REPO_ROOT } from "../support/k8s.js";
import { cli } from "../support/processes.js";

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === "" || line.startsWith("#"))) return;
    if (!buf) start = i + 1;
    buf += (buf ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) return;
    const m = /^(\w+)\s+(.*)$/.exec(buf)!;
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start });
    buf = "";
  });
  return out;
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i;

/** Returns every rule violation as "line N: reason". */
function lint(text: string): string[] {
  const ins = parseDockerfile(text);
  const problems: string[] = [];
  const froms = ins.filter((i) => i.op === "FROM");
  if (froms.length < 2) problems.push("not multi-stage: build with dev dependencies in one stage, run with production ones in another");
  for (const f of froms) {
    const image = f.args.split(/\s+/)[0]!;
    const pinned = /@sha256:[a-f0-9]{64}$/.test(image) || /:\d+\.\d+\.\d+(-[\w.-]+)?$/.test(image);
    const isStage = froms.some((g) => new RegExp(`\\bAS\\s+${image}$`, "i").test(g.args));
    if (!pinned && !isStage) problems.push(`line ${f.line}: base image ${image} is not pinned by exact version or digest`);
  }
  const lastFrom = ins.lastIndexOf(froms[froms.length - 1]!);
  const runtime = ins.slice(lastFrom);
  const users = runtime.filter((i) => i.op === "USER");
  const user = users[users.length - 1]?.args.split(":")[0];
  if (!user) problems.push("runtime stage has no USER: it would run as root");
  else if (user === "root" || user === "0") problems.push(`USER ${user} is root`);
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user} is not numeric: Kubernetes runAsNonRoot cannot verify a named user`);
  const runs = runtime.filter((i) => i.op === "RUN").map((i) => i.args);
  if (!runs.some((r) => /npm ci\b[^&|;]*--omit=dev/.test(r))) problems.push("runtime stage does not install with `npm ci --omit=dev`");
  if (runs.some((r) => /npm (install|i)\b/.test(r))) problems.push("runtime stage uses npm install (not reproducible from the lock file)");
  if (!runtime.some((i) => i.op === "COPY" && /--from=/.test(i.args))) problems.push("runtime stage does not copy the build output from the build stage");
  const hc = runtime.find((i) => i.op === "HEALTHCHECK");
  if (!hc || /^NONE\b/i.test(hc.args) || !/\bCMD\b/.test(hc.args)) problems.push("no HEALTHCHECK with a CMD");
  for (const i of ins) {
    if (i.op === "ENV" || i.op === "ARG") {
      for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+)("[^"]*"|\S+)?/g)) {
        if (SECRET_NAME.test(m[1]!) && m[2]) problems.push(`line ${i.line}: ${i.op} ${m[1]} looks like a secret baked into the image`);
      }
    }
    if ((i.op === "COPY" || i.op === "ADD") && /(\.env\b|\.pem\b|\.key\b|id_rsa|\.npmrc|tokens?\.ya?ml)/.test(i.args)) problems.push(`line ${i.line}: copies a secret-looking file`);
    if (i.op === "ADD" && /https?:\/\//.test(i.args)) problems.push(`line ${i.line}: ADD from a URL (unverified download)`);
    if (i.op === "RUN" && /(curl|wget)[^|]*\|\s*(ba)?sh/.test(i.args)) problems.push(`line ${i.line}: pipes a download into a shell`);
  }
  const ep = runtime.find((i) => i.op === "ENTRYPOINT");
  if (!ep || !ep.args.startsWith("[")) problems.push("ENTRYPOINT missing or not in exec form (signals would go to a shell, not node)");
  return problems;
}

const DOCKERFILE = readFileSync(`${REPO_ROOT}Dockerfile`, "utf8");

test("the Dockerfile passes every rule", () => {
  assert.deepEqual(lint(DOCKERFILE), []);
});

test("the rules catch what they claim to (a deliberately bad Dockerfile)", () => {
  const bad = `FROM node:latest
ENV NODE_ENV=production API_TOKEN=abc123
ARG DB_PASSWORD=hunter2
WORKDIR /app
COPY . .
COPY .env ./
RUN npm install && curl -s https://example.invalid/x.sh | sh
USER root
ENTRYPOINT node dist/src/cli/main.js
`;
  const problems = lint(bad).join("\n");
  for (const expected of [/not multi-stage/, /node:latest is not pinned/, /USER root is root/, /npm ci --omit=dev/, /uses npm install/, /no HEALTHCHECK/, /API_TOKEN looks like a secret/, /DB_PASSWORD looks like a secret/, /secret-looking file/, /pipes a download/, /exec form/]) {
    assert.match(problems, expected);
  }
  assert.match(lint(DOCKERFILE.replace("USER 1000:1000", "USER node")).join(), /not numeric/);
  assert.match(lint(DOCKERFILE.replace(/HEALTHCHECK[^]*?probe"\]\n/, "")).join(), /no HEALTHCHECK/);
});

test("what the Dockerfile copies and runs exists: build inputs, the CLI entry, the probe command", async () => {
  const ins = parseDockerfile(DOCKERFILE);
  for (const c of ins.filter((i) => i.op === "COPY" && !i.args.includes("--from="))) {
    const sources = c.args.split(/\s+/).slice(0, -1);
    for (const s of sources) assert.ok(existsSync(`${REPO_ROOT}${s}`), `COPY source ${s} exists`);
  }
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, "utf8"));
  assert.equal(pkg.bin.outrigger, "dist/src/cli/main.js");
  assert.match(DOCKERFILE, /ENTRYPOINT \["node", "\/app\/dist\/src\/cli\/main.js"\]/);
  assert.ok(pkg.scripts.build, "the build stage runs npm run build");
  const probe = await cli(["probe", "--help"]);
  assert.equal(probe.code, 0, "HEALTHCHECK's `outrigger probe` exists");
  const ignore = readFileSync(`${REPO_ROOT}.dockerignore`, "utf8").split("\n").map((l) => l.trim());
  for (const p of ["node_modules", "dist", ".git", ".env", "*.pem", "*.key"]) assert.ok(ignore.includes(p), `.dockerignore excludes ${p}`);
  for (const needed of ["src", "scripts", "schema", "web", "package.json", "package-lock.json", "tsconfig.json"]) assert.ok(!ignore.includes(needed), `.dockerignore keeps ${needed}`);
});
