// The dashboard in real headless Chromium against a running demo: no console errors, the service graph shows
// the demo's services, a trace opens in the waterfall with span attributes, and after a canary weight change the
// observed split follows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { launchBrowser } from "../support/browser.js";
import { startDemo } from "../support/demo.js";
import { cli } from "../support/processes.js";

test("dashboard: graph, trace waterfall, canary split follows a weight change; no console errors", { timeout: 240_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const demo = await startDemo();
  const errors: string[] = [];
  try {
    const page = await browser.context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${demo.collector}/#token=${demo.token}`);
    // The token moved from the URL into session storage.
    assert.equal(new URL(page.url()).hash, "#/");
    for (const svc of ["frontend", "checkout", "payments", "inventory"]) await page.locator(`svg.graph g.node[data-service="${svc}"]`).waitFor({ timeout: 30_000 });
    await page.locator('g.edge[data-edge="checkout->payments"]').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('g.edge[data-edge="frontend->checkout"] text').textContent() ?? "", /\/s · .*% · p95/);

    // A trace from the list opens in the waterfall; clicking a span shows its attributes.
    await page.goto(`${demo.collector}/#/traces`);
    await page.locator("tr[data-trace-id]").nth(10).waitFor({ timeout: 15_000 });
    // The oldest listed trace (a few seconds old) has all its spans; the newest may still be arriving.
    const row = page.locator("tr[data-trace-id]").last();
    await row.click();
    await page.locator('[data-testid="waterfall"] .wf-row').nth(3).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="waterfall"] .wf-row[data-service="frontend"]').first().click();
    const attrs = await page.locator('[data-testid="span-attributes"]').textContent();
    assert.match(attrs ?? "", /http\.request\.method/);

    // The service view draws its charts.
    await page.goto(`${demo.collector}/#/service/payments`);
    await page.locator(".chart canvas").first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator(".chart canvas").count(), 3);

    // Canary: 90/10 configured and observed, then shift to 50/50 and watch the observed split follow.
    await page.goto(`${demo.collector}/#/`);
    const share = async (subset: string, attr: "configured" | "observed") => Number(await page.locator(`.split[data-route="payments"] .split-row[data-subset="${subset}"]`).getAttribute(`data-${attr}`, { timeout: 15_000 }));
    await page.waitForFunction(`Number(document.querySelector('.split[data-route="payments"] .split-row[data-subset="v1"]')?.getAttribute("data-observed") ?? 0) > 0.75`, undefined, { timeout: 20_000 });
    assert.equal(await share("v2", "configured"), 0.1);
    const mesh = demo.env.OUTRIGGER_MESH_FILE!;
    await writeFile(mesh, (await readFile(mesh, "utf8")).replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"));
    const applied = await cli(["apply", "-f", mesh, "-m", "canary 50/50"], { env: demo.env });
    assert.equal(applied.code, 0, applied.stderr);
    // Observed within ±15 points of 50% over the dashboard's 10 s split window.
    await page.waitForFunction(
      `(() => { const v2 = document.querySelector('.split[data-route="payments"] .split-row[data-subset="v2"]');
        return Number(v2?.getAttribute("data-configured")) === 0.5 && Number(v2?.getAttribute("data-observed")) > 0.35 && Number(v2?.getAttribute("data-observed")) < 0.65; })()`,
      undefined,
      { timeout: 30_000 },
    );
    await page.goto(`${demo.collector}/#/timeline`);
    await page.locator('[data-testid="timeline"] li[data-version="2"]').waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, [], "no console errors");
  } finally {
    await browser.close();
    assert.equal(await demo.stop(), 0);
  }
});
