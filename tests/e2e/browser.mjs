// The browser half of the end-to-end suite (driven by test_web_e2e.py, which starts the
// real local stack): headless Chromium through playwright-core, a user's journey through
// the app, screenshots of each page and the paint timings of the dashboard.
//
// Env: WEB_URL (the stack's web server), WEB_LLM_URL (optional: a second web server whose
// api talks to the Messages API test server), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT_DIR, METRICS_FILE, DOCS_SCREENSHOT.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
// playwright-core is a dev dependency of the web app: one lock file, installed by `npm ci`.
const { chromium } = createRequire(join(repo, 'containers/web/package.json'))('playwright-core');

const WEB = process.env.WEB_URL ?? 'http://127.0.0.1:8080';
const WEB_LLM = process.env.WEB_LLM_URL;
const SHOTS = resolve(process.env.SCREENSHOT_DIR ?? join(repo, 'var/e2e-screenshots'));
const METRICS = resolve(process.env.METRICS_FILE ?? join(repo, 'var/e2e-metrics.json'));
const DOCS_SHOT = process.env.DOCS_SCREENSHOT ? resolve(process.env.DOCS_SCREENSHOT) : null;
const TIMEOUT = 20_000;
mkdirSync(SHOTS, { recursive: true });

// playwright gives each launch a fresh, temporary profile (user-data-dir) of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const results = [];
const consoleErrors = [];
let allowedErrors = [];

async function newUser(label, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (allowedErrors.some((pattern) => pattern.test(text))) return;
    consoleErrors.push(`${label} ${page.url()}: ${text}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${label} ${page.url()}: uncaught ${error.message}`));
  return { context, page };
}

async function step(name, action) {
  const started = Date.now();
  try {
    await action();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false, error: String(error) });
    console.log(`FAIL ${name}: ${error.stack ?? error}`);
    throw error;
  }
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const email = (who) => `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

async function signUp(page, address) {
  await page.goto(`${WEB}/signup`);
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

let exitCode = 0;
const metrics = {};
try {
  const alice = await newUser('alice');
  const page = alice.page;
  const aliceEmail = email('alice');
  let portfolioUrl;

  await step('sign-up errors show beside their field', async () => {
    await page.goto(`${WEB}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, '01-sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('short');
    allowedErrors = [/status of 422/];
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(/email address like/i).waitFor();
    allowedErrors = [];
  });

  await step('sign up lands on the dashboard', async () => {
    await signUp(page, aliceEmail);
    await page.getByRole('button', { name: 'Create portfolio' }).waitFor();
  });

  await step('create a portfolio and add a transaction: the holding shows', async () => {
    await page.getByRole('button', { name: 'Create portfolio' }).click();
    await page.getByRole('heading', { name: 'Add a transaction' }).waitFor();
    portfolioUrl = page.url();
    assert.match(portfolioUrl, /\/portfolios\/\d+$/);
    const form = page.getByTestId('add-transaction');
    await form.getByLabel('Type').selectOption('buy');
    await form.getByLabel('Date').fill('2012-06-01');
    await form.getByLabel('Ticker').fill('AAPL');
    await form.getByLabel('Shares').fill('10');
    await form.getByLabel('Price per share').fill('560.99');
    await form.getByRole('button', { name: 'Add transaction' }).click();
    await page.getByText('Recorded: buy AAPL on 2012-06-01.').waitFor();
    const holdings = page.getByTestId('holdings');
    await holdings.getByRole('rowheader', { name: 'AAPL' }).waitFor();
    assert.match(await holdings.textContent(), /10/);
    await page.getByTestId('risk').waitFor();
    await page.getByRole('heading', { name: 'Drawdown' }).waitFor();
    await shot(page, '03-portfolio');
  });

  await step('a CSV with bad rows gets its row-by-row report', async () => {
    const csv = 'date,type,ticker,quantity,price,fee\n2012-07-02,buy,MSFT,5,30,1\n2012-07-03,sell,AAPL,50,600,1\n2012-07-05,buy,NOPE_TICKER,1,1,0\n';
    allowedErrors = [/status of 422/];
    await page.locator('input[type=file]').setInputFiles({ name: 'trades.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText(/Nothing was imported from trades.csv/).waitFor();
    const report = page.locator('.report-errors');
    assert.ok((await report.getByRole('row').count()) >= 3, 'two bad rows listed');
    allowedErrors = [];
  });

  await step('dashboard shows the portfolio, allocation and watchlist predictions', async () => {
    await page.goto(`${WEB}/`);
    await page.getByTestId('portfolio-value').waitFor();
    await page.locator('.allocation svg').first().waitFor();
    await page.getByText(/data as of/).first().waitFor();
  });

  await step('open a ticker: candles and the current prediction', async () => {
    await page.getByRole('searchbox').or(page.getByLabel('Open a ticker')).first().fill('AAPL');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'AAPL', level: 1 }).waitFor();
    const prediction = page.getByTestId('prediction');
    await prediction.getByText(/chance to beat the market over 5 trading days/).waitFor();
    await prediction.getByText('What this means:').waitFor();
    await page.locator('.candle-canvas canvas').first().waitFor();
    await page.getByTestId('track-record').getByText('Hit rate').waitFor();
    await page.getByRole('button', { name: /Add to watchlist|On your watchlist/ }).waitFor();
    await page.waitForTimeout(300); // the canvas paints on the next frame
    await shot(page, '04-ticker');
  });

  await step('models page: card, baselines, equity curves, promotion decision', async () => {
    await page.getByRole('link', { name: 'Models' }).first().click();
    await page.getByTestId('model-card').getByText('Momentum baseline').waitFor();
    await page.getByTestId('promotion-decision').waitFor();
    await page.locator('.recharts-line').first().waitFor();
    await shot(page, '05-models');
  });

  await step('ask the offline assistant: the answer streams with its steps and cost', async () => {
    await page.getByRole('link', { name: 'Assistant' }).click();
    await page.getByTestId('usage').getByText('Offline assistant').waitFor();
    await page.getByRole('button', { name: 'Start a conversation' }).click();
    await page.getByLabel('Your question').fill('How is my portfolio doing?');
    await page.getByRole('button', { name: 'Ask' }).click();
    const answer = page.getByTestId('answer').last();
    await answer.and(page.locator('[data-status=complete]')).waitFor();
    await answer.locator('.badge.offline').waitFor();
    await answer.getByText('Cost $0.00').waitFor();
    const step = answer.locator('.steps details').first();
    await step.locator('summary').click();
    assert.equal(await step.getAttribute('open'), '');
    await shot(page, '06-chat-offline');
  });

  await step("another user cannot see this portfolio: its URL shows not found", async () => {
    const bob = await newUser('bob');
    await signUp(bob.page, email('bob'));
    allowedErrors = [/status of 404/];
    await bob.page.goto(portfolioUrl);
    await bob.page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await bob.page.getByTestId('holdings').count(), 0);
    allowedErrors = [];
    await shot(bob.page, '07-not-yours');
    await bob.context.close();
  });

  await step('phone width: the dashboard fits and the menu is reachable by keyboard', async () => {
    const phone = await alice.context.browser().newContext({ viewport: { width: 390, height: 844 }, storageState: await alice.context.storageState() });
    const small = await phone.newPage();
    small.on('pageerror', (error) => consoleErrors.push(`phone: uncaught ${error.message}`));
    await small.goto(`${WEB}/`);
    await small.getByTestId('portfolio-value').waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at phone width`);
    await small.locator('.allocation svg').first().waitFor();
    await small.keyboard.press('Tab');
    assert.equal(await small.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await small.keyboard.press('Escape');
    await small.locator('body').click({ position: { x: 5, y: 300 } });
    await small.screenshot({ path: join(SHOTS, '08-dashboard-phone.png'), fullPage: true });
    await phone.close();
  });

  await step('dashboard paint timings: the demo account, a fresh page load', async () => {
    // The seeded demo account (five holdings, a six-ticker watchlist) is what a visitor
    // sees first; its dashboard is measured once every prediction is on screen.
    const demo = await newUser('demo');
    await demo.page.goto(`${WEB}/signin`);
    await demo.page.getByLabel('Email').fill('demo@example.com');
    await demo.page.getByLabel('Password').fill('demo-investor');
    await demo.page.getByRole('button', { name: 'Sign in' }).click();
    await demo.page.getByTestId('portfolio-value').waitFor();
    await demo.page.close();
    const timing = await demo.context.newPage();
    await timing.goto(`${WEB}/`);
    await timing.getByTestId('portfolio-value').waitFor();
    await timing.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid^="prediction-"]')];
      return cells.length > 0 && cells.every((cell) => cell.textContent !== '…');
    });
    const figures = await timing.evaluate(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        first_contentful_paint_ms: fcp ? Math.round(fcp.startTime) : null,
        dashboard_data_shown_ms: Math.round(performance.now()),
        dom_content_loaded_ms: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
      };
    });
    Object.assign(metrics, figures, { dashboard_account: 'demo (5 holdings, 6-ticker watchlist)' });
    await timing.locator('.allocation svg').first().waitFor();
    await timing.waitForTimeout(300);
    await shot(timing, '02-dashboard');
    if (DOCS_SHOT) {
      mkdirSync(dirname(DOCS_SHOT), { recursive: true });
      await timing.screenshot({ path: DOCS_SHOT });
    }
    await demo.context.close();
  });

  if (WEB_LLM) {
    await step('ask the assistant through the Messages API: streamed, costed, unverified marked', async () => {
      // Another origin (port): the same account signs in there.
      await page.goto(`${WEB_LLM}/signin?next=/chat`);
      await page.getByLabel('Email').fill(aliceEmail);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('usage').waitFor();
      assert.equal(await page.getByTestId('usage').getByText('Offline assistant').count(), 0);
      await page.getByRole('button', { name: 'New conversation' }).click();
      await page.getByLabel('Your question').fill('What does the model say about AAPL?');
      await page.getByRole('button', { name: 'Ask' }).click();
      const answer = page.getByTestId('answer').last();
      await answer.and(page.locator('[data-status=complete]')).waitFor();
      await answer.locator('.steps code', { hasText: 'get_prediction' }).waitFor();
      await answer.locator('mark.unverified').first().waitFor();
      const cost = await answer.getByTestId('answer-cost').textContent();
      assert.match(cost, /Cost \$0\.\d+/);
      assert.notEqual(cost, 'Cost $0.00');
      await page.getByTestId('usage').getByText(/of \$5\.00 budget spent/).waitFor();
      await shot(page, '06-chat-messages-api');
    });
  }

  await alice.context.close();
  assert.deepEqual(consoleErrors, [], 'no console errors');
} catch (error) {
  exitCode = 1;
  if (consoleErrors.length) console.log(`console errors:\n  ${consoleErrors.join('\n  ')}`);
  if (!(error instanceof assert.AssertionError) || !String(error.message).includes('console')) {
    // the step already printed it
  }
} finally {
  await browser.close();
}

mkdirSync(dirname(METRICS), { recursive: true });
writeFileSync(
  METRICS,
  `${JSON.stringify({ measured_at: new Date().toISOString(), web_url: WEB, ...metrics, steps: results }, null, 2)}\n`,
);
console.log(`${results.filter((r) => r.ok).length}/${results.length} steps passed; metrics in ${METRICS}`);
process.exit(exitCode);
