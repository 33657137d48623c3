// Split: weighted backendRefs land on their weights, header rules split by tenant, sticky splits keep a key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { outboundRoute } from "../../../src/sidecar/policies/route.js";
import { pickRef, stickyRoll } from "../../../src/sidecar/policies/split.js";
import { exchange, fakeNext, planFrom } from "../../support/exchange.js";

const BACKENDS = `apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: payments }
spec:
  endpoints:
    - { address: "127.0.0.1:9001", labels: { version: v1 } }
    - { address: "127.0.0.1:9002", labels: { version: v2 } }
`;

const route = (extra: string) => `${BACKENDS}---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: payments }
spec:
  hosts: [payments]
  rules:
${extra}`;

test("a 95/5 split lands within ±1% over 10,000 requests through the route policy", async () => {
  const plan = planFrom(route(`    - backendRefs:
        - { name: payments, subset: v1, weight: 95 }
        - { name: payments, subset: v2, weight: 5 }
`));
  const policy = outboundRoute(plan);
  const next = fakeNext();
  const counts = { v1: 0, v2: 0 };
  for (let i = 0; i < 10_000; i++) {
    const ex = exchange({ host: "payments", path: `/pay/${i}` });
    await policy(ex, next);
    counts[ex.target!.subset as "v1" | "v2"]++;
    assert.equal(ex.notes.backend, "payments");
    assert.equal(ex.notes.subset, ex.target!.subset, "the chosen subset is in the notes for spans and metrics");
  }
  const v2share = counts.v2 / 10_000;
  assert.ok(Math.abs(v2share - 0.05) <= 0.01, `v2 got ${(v2share * 100).toFixed(2)}% (want 5 ± 1%)`);
  assert.ok(Math.abs(counts.v1 / 10_000 - 0.95) <= 0.01, `v1 got ${counts.v1}`);
});

test("pickRef maps the roll onto cumulative weights exactly (boundaries)", () => {
  const plan = planFrom(route(`    - backendRefs:
        - { name: payments, subset: v1, weight: 95 }
        - { name: payments, subset: v2, weight: 5 }
`));
  const rule = plan.outbound.rules[0]!;
  assert.equal(pickRef(rule, 0)!.subset, "v1");
  assert.equal(pickRef(rule, 0.9499)!.subset, "v1");
  assert.equal(pickRef(rule, 0.95)!.subset, "v2");
  assert.equal(pickRef(rule, 0.9999)!.subset, "v2");
});

test("a weight of 0 never receives traffic", async () => {
  const plan = planFrom(route(`    - backendRefs:
        - { name: payments, subset: v1, weight: 1 }
        - { name: payments, subset: v2, weight: 0 }
`));
  const policy = outboundRoute(plan);
  for (let i = 0; i < 2000; i++) {
    const ex = exchange({ host: "payments" });
    await policy(ex, fakeNext());
    assert.equal(ex.target!.subset, "v1");
  }
});

test("split by tenant header: a rule with a header match sends that tenant to v2, others to v1", async () => {
  const plan = planFrom(route(`    - name: acme
      matches: [{ headers: [{ name: x-tenant, value: acme }] }]
      backendRefs: [{ name: payments, subset: v2 }]
    - name: rest
      backendRefs: [{ name: payments, subset: v1 }]
`));
  const policy = outboundRoute(plan);
  const a = exchange({ host: "payments", headers: { "x-tenant": "acme" } });
  await policy(a, fakeNext());
  assert.equal(a.target!.subset, "v2");
  assert.equal(a.notes.route, "payments/acme");
  const b = exchange({ host: "payments", headers: { "x-tenant": "globex" } });
  await policy(b, fakeNext());
  assert.equal(b.target!.subset, "v1");
  assert.equal(b.notes.route, "payments/rest");
});

test("sticky split by header: each key keeps one subset over many requests, and keys spread by weight", async () => {
  const plan = planFrom(route(`    - sessionAffinity: { header: x-user }
      backendRefs:
        - { name: payments, subset: v1, weight: 50 }
        - { name: payments, subset: v2, weight: 50 }
`));
  const policy = outboundRoute(plan);
  const perKey = new Map<string, Set<string>>();
  for (let round = 0; round < 20; round++)
    for (let u = 0; u < 200; u++) {
      const ex = exchange({ host: "payments", headers: { "x-user": `user-${u}` } });
      await policy(ex, fakeNext());
      assert.equal(ex.notes.sticky, true);
      const set = perKey.get(`user-${u}`) ?? new Set();
      set.add(ex.target!.subset!);
      perKey.set(`user-${u}`, set);
    }
  for (const [k, s] of perKey) assert.equal(s.size, 1, `${k} moved between subsets: ${[...s]}`);
  const onV2 = [...perKey.values()].filter((s) => s.has("v2")).length;
  assert.ok(onV2 > 60 && onV2 < 140, `keys on v2: ${onV2}/200 (a 50/50 sticky split should spread them)`);
});

test("sticky split by cookie; requests without the key fall back to the weighted random pick", async () => {
  const plan = planFrom(route(`    - sessionAffinity: { cookie: session }
      backendRefs:
        - { name: payments, subset: v1, weight: 50 }
        - { name: payments, subset: v2, weight: 50 }
`));
  const policy = outboundRoute(plan);
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const ex = exchange({ host: "payments", headers: { cookie: "theme=dark; session=abc123; x=1" } });
    await policy(ex, fakeNext());
    seen.add(ex.target!.subset!);
  }
  assert.equal(seen.size, 1, "one cookie value, one subset");
  const free = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const ex = exchange({ host: "payments" });
    await policy(ex, fakeNext());
    assert.equal(ex.notes.sticky, undefined);
    free.add(ex.target!.subset!);
  }
  assert.equal(free.size, 2, "without the cookie both subsets are used");
});

test("stickyRoll is uniform enough: 10,000 keys fill ten buckets within ±15%", () => {
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) buckets[Math.floor(stickyRoll(`client-${i}`) * 10)]++;
  for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket ${b}`);
});
