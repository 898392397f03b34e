// Opens Swagger UI in headless Chromium (playwright-core driving /usr/bin/chromium, no
// downloaded browser) against a running service and checks that it works under the
// service's Content-Security-Policy:
//   - /swagger-ui.html leads to the page, whose policy still forbids framing;
//   - the operations the page shows (method + path) are exactly those of /v3/api-docs,
//     read from the document at run time;
//   - the browser reports no Content-Security-Policy violation and no error;
//   - "Try it out" -> "Execute" on a GET without path parameters gets a 200 from the same
//     origin, rendered in the page, and that API response keeps the strict policy.
// Saves a full-page screenshot of the operations when asked to.
//
// Usage: node .ci/swagger-ui.mjs BASE_URL [SCREENSHOT.png]
// Env:   PLAYWRIGHT_CORE_DIR  the npm --prefix folder holding playwright-core (required)
//        CHROMIUM             the browser (default /usr/bin/chromium)
// Prints one line per check and a last line "swagger-ui: N passed, M failed"; exits 1 when
// a check failed, 2 when the check itself could not run.

import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import path from 'node:path';

const [baseUrl, screenshot] = process.argv.slice(2);
if (!baseUrl || !process.env.PLAYWRIGHT_CORE_DIR) {
  console.error('usage: PLAYWRIGHT_CORE_DIR=DIR node .ci/swagger-ui.mjs BASE_URL [SCREENSHOT.png]');
  process.exit(2);
}
const { chromium } = createRequire(path.join(process.env.PLAYWRIGHT_CORE_DIR, 'noop.js'))('playwright-core');

const STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'";
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const RENDER_TIMEOUT_MS = 30_000;

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok     ${name}`);
  } else {
    failed++;
    console.log(`FAILED ${name}${detail ? `\n       ${detail.replaceAll('\n', '\n       ')}` : ''}`);
  }
}
const sorted = (set) => [...set].sort();
const difference = (a, b) => sorted(a).filter((x) => !b.has(x));

// --- what the document says --------------------------------------------------------------
const docResponse = await fetch(new URL('/v3/api-docs', baseUrl));
if (!docResponse.ok) {
  console.error(`swagger-ui: /v3/api-docs answered ${docResponse.status}`);
  process.exit(2);
}
const doc = await docResponse.json();
const documented = new Set();
for (const [p, item] of Object.entries(doc.paths ?? {})) {
  for (const m of METHODS) {
    if (item[m]) documented.add(`${m.toUpperCase()} ${p}`);
  }
}
// The GET to try: /products if the document has it, else the first GET without parameters
// in its path (no value to make up).
const tryGet = documented.has('GET /products') ? '/products'
  : sorted(documented).find((op) => op.startsWith('GET ') && !op.includes('{'))?.slice(4);

// --- the browser --------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 60_000,
  // No outside network here: without the background-networking flags Chromium keeps
  // trying to reach Google's services.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const console_ = [];
  const pageErrors = [];
  const failedRequests = [];
  page.on('console', (m) => console_.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('requestfailed', (r) => failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  // The document's own report of what its policy blocked, besides the console.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'}`));
  });

  // 1. The entry point and the page's own policy.
  const response = await page.goto(new URL('/swagger-ui.html', baseUrl).href, { waitUntil: 'load' });
  const pagePolicy = (await response.allHeaders())['content-security-policy'] ?? '';
  check('/swagger-ui.html leads to /swagger-ui/index.html (200)',
    response.status() === 200 && new URL(page.url()).pathname === '/swagger-ui/index.html',
    `${response.status()} ${page.url()}`);
  check("the page's Content-Security-Policy forbids framing and has default-src 'none'",
    /(^|;)\s*frame-ancestors 'none'\s*(;|$)/.test(pagePolicy) && /(^|;)\s*default-src 'none'\s*(;|$)/.test(pagePolicy),
    `Content-Security-Policy: ${pagePolicy}`);

  // 2. Every documented operation, and nothing else, is on the page.
  const rendered = new Set();
  const deadline = Date.now() + RENDER_TIMEOUT_MS;
  let stableSince = 0;
  let last = -1;
  while (Date.now() < deadline) {
    const ops = await page.$$eval('.opblock .opblock-summary', (nodes) => nodes.map((n) => {
      const method = n.querySelector('.opblock-summary-method')?.textContent.trim();
      const p = n.querySelector('.opblock-summary-path')?.getAttribute('data-path');
      return `${method} ${p}`;
    }));
    if (ops.length > 0 && ops.length === last) {
      if (Date.now() - stableSince > 500) {
        ops.forEach((op) => rendered.add(op));
        break;
      }
    } else {
      stableSince = Date.now();
      last = ops.length;
    }
    await page.waitForTimeout(100);
  }
  check(`Swagger UI shows the ${documented.size} operations of /v3/api-docs, no more, no fewer`,
    rendered.size > 0 && difference(documented, rendered).length === 0 && difference(rendered, documented).length === 0,
    rendered.size === 0
      ? `no operation rendered within ${RENDER_TIMEOUT_MS / 1000} s; the page's text: ${JSON.stringify((await page.innerText('body')).slice(0, 200))}`
      : `missing from the page: ${difference(documented, rendered).join(', ') || 'none'}; `
        + `not in the document: ${difference(rendered, documented).join(', ') || 'none'}`);

  if (screenshot && rendered.size > 0) {
    await page.screenshot({ path: screenshot, fullPage: true });
  }

  // 3. "Try it out" -> "Execute" on one GET, against the same origin.
  let tried = { status: '', url: '', policy: '' };
  if (tryGet && rendered.size > 0) {
    try {
      const block = page.locator('.opblock.opblock-get', {
        has: page.locator(`.opblock-summary-path[data-path="${tryGet}"]`),
      }).first();
      await block.locator('.opblock-summary-control').click();
      await block.locator('button.try-out__btn').click();
      const apiResponse = page.waitForResponse((r) => r.request().method() === 'GET'
        && new URL(r.url()).pathname === tryGet, { timeout: 15_000 });
      await block.locator('button.execute').click();
      const r = await apiResponse;
      tried.url = r.url();
      tried.policy = (await r.allHeaders())['content-security-policy'] ?? '';
      const status = block.locator('.live-responses-table .response .response-col_status').first();
      await status.waitFor({ timeout: 15_000 });
      tried.status = (await status.innerText()).trim();
    } catch (e) {
      tried.status = `(${e.message.split('\n')[0]})`;
    }
  }
  check(`Try it out -> Execute on GET ${tryGet} shows a 200 in the page`,
    /^200\b/.test(tried.status), `status shown: ${tried.status || '(none)'}`);
  check('that request went to the page\'s own origin',
    tried.url !== '' && new URL(tried.url).origin === new URL(page.url()).origin, `request: ${tried.url || '(none)'}`);
  check(`the API's answer keeps Content-Security-Policy: ${STRICT_POLICY}`,
    tried.policy === STRICT_POLICY, `Content-Security-Policy: ${tried.policy || '(none)'}`);

  // 4. Nothing blocked, nothing broken.
  const violations = await page.evaluate(() => window.cspViolations);
  const cspMessages = console_.filter((m) => /Content.Security.Policy/i.test(m.text));
  const cspFailures = failedRequests.filter((f) => /csp/i.test(f));
  check('no Content-Security-Policy message in the console and no violation reported',
    cspMessages.length === 0 && violations.length === 0 && cspFailures.length === 0,
    [...cspMessages.map((m) => `console ${m.type}: ${m.text}`), ...violations.map((v) => `securitypolicyviolation: ${v}`),
      ...cspFailures.map((f) => `request failed: ${f}`)].slice(0, 12).join('\n'));
  const errors = console_.filter((m) => m.type === 'error');
  check('no error in the console, no uncaught exception, no failed request',
    errors.length === 0 && pageErrors.length === 0 && failedRequests.length === 0,
    [...errors.map((m) => `console error: ${m.text}`), ...pageErrors.map((e) => `uncaught: ${e}`),
      ...failedRequests.map((f) => `request failed: ${f}`)].slice(0, 12).join('\n'));

  if (screenshot) {
    let size = 0;
    try { size = statSync(screenshot).size; } catch { /* not written */ }
    check(`screenshot saved to ${screenshot}`, size > 0, rendered.size === 0 ? 'nothing rendered to show' : 'not written');
  }
} finally {
  await browser.close();
}

console.log(`swagger-ui: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
