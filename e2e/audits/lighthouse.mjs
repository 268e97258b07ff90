// Lighthouse on the SPA, for e2e/tests/lighthouse.rs: reads a plan (JSON) on stdin, runs each audit
// in a new tab of one headless Chromium (Debian's, launched by puppeteer-core: nothing downloads a
// browser), writes each report as HTML into the plan's folder and the figures as JSON to stdout.
// It measures; the Rust test judges (and runs an attempt that failed again).
//
// A plan: {"chromium": "/usr/bin/chromium", "origin": "http://127.0.0.1:PORT", "reports": DIR,
//          "audits": [{"name", "preset": "mobile"|"desktop", "attempt", "path",
//                      "steps": [{"click": XPATH}], "ready": XPATH}]}
// Before an audit with steps, the tab opens `path` and clicks each step's element in turn (a
// sign-in), then waits for `ready`. Lighthouse then loads `path` in that same tab: its storage
// reset clears the HTTP cache and the origin's caches and service workers but not sessionStorage,
// where the SPA keeps its session, so a signed-in page is measured on a cold cache. After the
// audit `ready` must be shown again, at `path`: the page measured is the one intended.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';

import lighthouse, { desktopConfig } from 'lighthouse';
import puppeteer from 'puppeteer-core';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const METRICS = {
  fcp: 'first-contentful-paint',
  lcp: 'largest-contentful-paint',
  tbt: 'total-blocking-time',
  cls: 'cumulative-layout-shift',
  si: 'speed-index',
};
// Lighthouse's default configuration is the mobile one: a mid-range phone on a slow 4G network,
// simulated (the page loads at full speed; the metrics are computed for the slower device).
const PRESETS = { mobile: undefined, desktop: desktopConfig };
// For each wait of the sign-in, generous: the machine may be busy building.
const WAIT_MS = 60_000;

const xpath = (expression) => `::-p-xpath(${expression})`;

// Each wait's failure names the audit and the element.
async function prepare(page, origin, audit) {
  if (audit.steps.length === 0) return;
  const step = async (what, action) => {
    try {
      await action();
    } catch (error) {
      throw new Error(`${audit.name} (${audit.preset}): ${what}: ${error.message}`, {
        cause: error,
      });
    }
  };
  await step(`opening ${audit.path}`, () => page.goto(origin + audit.path));
  for (const { click } of audit.steps) {
    await step(`clicking ${click}`, () => page.locator(xpath(click)).click());
  }
  await step(`waiting for ${audit.ready}`, () => page.waitForSelector(xpath(audit.ready)));
}

// Every audit of a category that costs it points, with what Lighthouse shows beside it.
function shortfalls(lhr) {
  const found = [];
  for (const id of CATEGORIES) {
    for (const ref of lhr.categories[id].auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        found.push({
          category: id,
          id: ref.id,
          title: audit.title,
          score: audit.score,
          display: audit.displayValue ?? '',
        });
      }
    }
  }
  return found;
}

// In a browser context of its own (no cookies, such as the provider's session, from the audits
// before it).
async function run(browser, plan, audit) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  try {
    await prepare(page, plan.origin, audit);
    const result = await lighthouse(
      plan.origin + audit.path,
      { logLevel: 'error', output: 'html', onlyCategories: CATEGORIES },
      PRESETS[audit.preset],
      page,
    );
    const { lhr } = result;
    const report = join(plan.reports, `${audit.name}-${audit.preset}-${audit.attempt}.html`);
    await writeFile(report, result.report);
    const shown =
      new URL(page.url()).pathname === audit.path &&
      (await page.$(xpath(audit.ready))) !== null;
    return {
      name: audit.name,
      preset: audit.preset,
      attempt: audit.attempt,
      url: lhr.finalDisplayedUrl,
      shown,
      runtime_error: lhr.runtimeError?.message ?? null,
      warnings: lhr.runWarnings,
      lighthouse: lhr.lighthouseVersion,
      browser: lhr.environment.hostUserAgent,
      benchmark_index: lhr.environment.benchmarkIndex,
      scores: Object.fromEntries(CATEGORIES.map((id) => [id, lhr.categories[id].score])),
      metrics: Object.fromEntries(
        Object.entries(METRICS).map(([key, id]) => [key, lhr.audits[id].numericValue ?? null]),
      ),
      shortfalls: shortfalls(lhr),
      report,
    };
  } finally {
    // A browser that broke during the audit may not close the context: what failed is reported.
    await context.close().catch(() => {});
  }
}

// An attempt that failed before Lighthouse could report, as the Rust side reads it.
function failed(plan, audit, error) {
  return {
    name: audit.name,
    preset: audit.preset,
    attempt: audit.attempt,
    url: plan.origin + audit.path,
    shown: false,
    runtime_error: error.message,
  };
}

const plan = JSON.parse(await text(process.stdin));
await mkdir(plan.reports, { recursive: true });
const browser = await puppeteer.launch({
  executablePath: plan.chromium,
  headless: true,
  // As root (CI containers) Chromium refuses to start sandboxed; /dev/shm may be tiny there.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const results = [];
  for (const audit of plan.audits) {
    process.stderr.write(`lighthouse: ${audit.name} (${audit.preset}, attempt ${audit.attempt})\n`);
    results.push(await run(browser, plan, audit).catch((error) => failed(plan, audit, error)));
  }
  process.stdout.write(JSON.stringify(results));
} finally {
  await browser.close();
}
