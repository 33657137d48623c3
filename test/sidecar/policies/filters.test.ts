// Route filters: header modifiers, URL rewrite (prefix, full path, hostname), redirect, direct response.
import { test } from "node:test";
import assert from "node:assert/strict";
import { outboundRoute, inboundRoute } from "../../../src/sidecar/policies/route.js";
import { filters, rewritePrefix } from "../../../src/sidecar/policies/filters.js";
import { exchange, fakeNext, ok, planFrom, run } from "../../support/exchange.js";

const plan = planFrom(`apiVersion: outrigger.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec: { endpoints: [{ address: "127.0.0.1:9001" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: r }
spec:
  hosts: [svc]
  rules:
    - name: rewrite
      matches: [{ path: { type: PathPrefix, value: /old } }]
      filters:
        - type: URLRewrite
          urlRewrite: { hostname: internal.svc, path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } }
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: X-Set, value: s }], add: [{ name: x-add, value: two }], remove: [x-drop] }
        - type: ResponseHeaderModifier
          responseHeaderModifier: { set: [{ name: x-served-by, value: mesh }], remove: [server] }
      backendRefs: [{ name: svc }]
    - name: full
      matches: [{ path: { type: PathPrefix, value: /full } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /replaced } } }]
      backendRefs: [{ name: svc }]
    - name: moved
      matches: [{ path: { type: PathPrefix, value: /moved } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, hostname: example.test, statusCode: 301 } }]
    - name: teapot
      matches: [{ path: { type: Exact, value: /teapot } }]
      filters: [{ type: DirectResponse, directResponse: { status: 418, body: "short and stout" } }]
---
apiVersion: outrigger.dev/v1alpha1
kind: Route
metadata: { name: in }
spec:
  hosts: ["*"]
  direction: inbound
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-inbound, value: "yes" }] } }]
`);

test("URLRewrite replaces the matched prefix and the host; header modifiers edit request and response", async () => {
  const ex = exchange({ host: "svc", path: "/old/items/7?x=1", headers: { "x-add": "one", "x-drop": "gone" } });
  const next = fakeNext(() => ok(200, { server: "node", "content-type": "text/plain" }));
  const reply = await run([outboundRoute(plan), filters()], ex, next);
  assert.equal(ex.path, "/new/items/7?x=1");
  assert.equal(ex.headers.host, "internal.svc");
  assert.equal(ex.headers["x-set"], "s");
  assert.equal(ex.headers["x-add"], "one,two");
  assert.equal(ex.headers["x-drop"], undefined);
  assert.equal(reply.headers["x-served-by"], "mesh");
  assert.equal(reply.headers.server, undefined);
  assert.equal(reply.headers["content-type"], "text/plain");
});

test("ReplacePrefixMatch edge cases", () => {
  assert.equal(rewritePrefix("/old", "/old", "/new"), "/new");
  assert.equal(rewritePrefix("/old/", "/old", "/"), "/");
  assert.equal(rewritePrefix("/old/a", "/old", "/"), "/a");
  assert.equal(rewritePrefix("/old/a?q", "/old", "/v2/"), "/v2/a?q");
  assert.equal(rewritePrefix("/a/b", "/", "/root"), "/root/a/b");
});

test("ReplaceFullPath keeps the query", async () => {
  const ex = exchange({ host: "svc", path: "/full/x?keep=1" });
  await run([outboundRoute(plan), filters()], ex, fakeNext());
  assert.equal(ex.path, "/replaced?keep=1");
});

test("RequestRedirect answers 301 with Location and never calls the backend", async () => {
  const next = fakeNext();
  const ex = exchange({ host: "svc", path: "/moved/a?b=c" });
  const reply = await run([outboundRoute(plan), filters()], ex, next);
  assert.equal(reply.status, 301);
  assert.equal(reply.headers.location, "https://example.test/moved/a?b=c");
  assert.equal(next.calls.length, 0);
});

test("DirectResponse answers from the sidecar", async () => {
  const next = fakeNext();
  const reply = await run([outboundRoute(plan), filters()], exchange({ host: "svc", path: "/teapot" }), next);
  assert.equal(reply.status, 418);
  assert.equal(reply.body, "short and stout");
  assert.equal(next.calls.length, 0);
});

test("filters apply on inbound routes too", async () => {
  const ex = exchange({ host: "anything", direction: "inbound", path: "/x" });
  await run([inboundRoute(plan), filters()], ex, fakeNext());
  assert.equal(ex.headers["x-inbound"], "yes");
  assert.equal(ex.target?.app, true);
});
