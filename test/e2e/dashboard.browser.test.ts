/**
 * The dashboard in a real browser: the compiled service on a database and key prefix of its own
 * (so every figure on the page is one this file made), spend seeded through real checks and
 * commits, and Debian's headless Chromium driven by playwright-core — signing in, reading the
 * tables and charts, moving by keyboard, an axe-core scan, and screenshots in test-results/.
 *
 * Precondition: dist/ exists (`npm test` builds first) and /usr/bin/chromium (.ci/run installs it).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '#ledger';
import {
  allowInjectedScripts,
  axeScan,
  type Browser,
  describeViolations,
  launchChromium,
} from '../support/browser.js';
import { eventually } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { assertTestDatabaseName, databaseUrlWithName } from '../support/test-database.js';
import { testEnv } from '../support/test-env.js';
import { type SeededSpend, seedSpend, usd } from './dashboard.seed.js';

const ARTIFACTS = 'test-results';
const ADMIN_KEY = `tb_admin_${randomBytes(16).toString('hex')}`;

let databaseUrl: string;
let server: pg.Client;
let pool: pg.Pool;
let service: ServiceProcess;
let seeded: SeededSpend;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const env = testEnv();
  databaseUrl = databaseUrlWithName(
    env.databaseUrl,
    `token_budget_test_dashboard_${randomBytes(4).toString('hex')}`,
  );
  assertTestDatabaseName(databaseUrl);
  server = new pg.Client({ connectionString: env.databaseUrl });
  await server.connect();
  await server.query(`CREATE DATABASE "${new URL(databaseUrl).pathname.slice(1)}"`);
  await migrateDatabase(databaseUrl);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  service = await startServiceProcess({
    DATABASE_URL: databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.keyPrefix,
    BOOTSTRAP_API_KEY: ADMIN_KEY,
  });
  seeded = await seedSpend(service.url, ADMIN_KEY, (text, params) => pool.query(text, params));
  browser = await launchChromium();
  page = browser.page;
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) {
      pageErrors.push(message.text());
    }
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await pool?.end();
  if (server) {
    await server.query(
      `DROP DATABASE IF EXISTS "${new URL(databaseUrl).pathname.slice(1)}" WITH (FORCE)`,
    );
    await server.end();
  }
});

/** The id of the focused element ('' for none). */
const focused = async (): Promise<string> =>
  (await page
    .locator(':focus')
    .first()
    .getAttribute('id')
    .catch(() => null)) ?? '';

/** Presses Tab until the element with this id has the focus (fails after `most` presses). */
async function tabTo(id: string, most = 25): Promise<void> {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    if ((await focused()) === id) {
      return;
    }
  }
  throw new Error(`#${id} never got the focus in ${most} Tab presses`);
}

const text = (selector: string): Promise<string> => page.locator(selector).first().innerText();

/** The text of each cell of a table row. */
const cells = (row: string): Promise<string[]> => page.locator(`${row} > *`).allInnerTexts();

describe('GET /dashboard', () => {
  it('serves the page and its files without a key, under a policy that admits only its own files', async () => {
    const response = await fetch(`${service.url}/dashboard`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await response.text()).toContain('<title>token-budget · dashboard</title>');
    const script = await fetch(`${service.url}/dashboard/dashboard.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const slash = await fetch(`${service.url}/dashboard/?from=link`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/dashboard?from=link');
    expect((await fetch(`${service.url}/dashboard/`)).url).toBe(`${service.url}/dashboard`);
    const missing = await fetch(`${service.url}/dashboard/secrets.txt`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('refuses a caller key, then signs in by keyboard with an admin key', async () => {
    await page.goto(`${service.url}/dashboard`);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-sign-in.png` });
    await tabTo('admin-key');
    await page.keyboard.type(seeded.callerKey);
    await page.keyboard.press('Enter');
    await eventually(async () => expect(await text('#login-error')).toMatch(/admin key/), 5_000);
    expect(await focused()).toBe('admin-key');

    await page.locator('#admin-key').fill('');
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await page.locator('#tiers-table tr[data-key="team"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
  });

  it('shows the seeded spend in the figures, tables and charts', async () => {
    expect(await text('#kpi-today')).toBe(usd(seeded.total));
    expect(await text('#kpi-month')).toBe(usd(seeded.total));

    for (const [tier, spent] of seeded.byTier) {
      const row = await cells(`#tiers-table tbody tr[data-key="${tier}"]`);
      expect(row.slice(0, 3), tier).toEqual([tier, usd(spent), usd(spent)]);
    }
    expect(await cells('#tiers-table tfoot tr')).toEqual([
      'Total',
      usd(seeded.total),
      usd(seeded.total),
      '',
    ]);
    for (const [model, spent] of seeded.byModel) {
      const row = await cells(`#models-table tbody tr[data-key="${model}"]`);
      expect(row.slice(0, 3), model).toEqual([model, usd(spent), usd(spent)]);
    }

    // Top subjects: by spend, with their limits and what they hold in flight.
    const ranked = [...seeded.bySubject].sort((a, b) => b[1] - a[1]).map(([subject]) => subject);
    expect(
      await page
        .locator('#top-table tbody tr')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-subject'))),
    ).toEqual(ranked);
    const alice = await cells('#top-table tr[data-subject="alice"]');
    expect(alice.slice(0, 3)).toEqual(['alice', 'team', usd(seeded.bySubject.get('alice')!)]);
    expect(alice[4]).toBe(`${usd(5_000_000 - seeded.bySubject.get('alice')!)} left of $5.000000`);
    expect(alice[5]).toBe(`${usd(60_000_000 - seeded.bySubject.get('alice')!)} left of $60.000000`);
    const carol = await cells('#top-table tr[data-subject="carol"]');
    expect(carol[1]).toBe('free');
    expect(carol[6]).toBe('2 of 2');
    expect(carol[7]).toBe(usd(seeded.held.micros));

    // The chart of days: today's column holds the day's total.
    const today = page.locator('#daily-chart g.day.today');
    expect(await today.getAttribute('data-usd')).toBe(usd(seeded.total).slice(1).replace(/,/g, ''));
    expect(Number(await today.locator('rect').getAttribute('height'))).toBeGreaterThan(100);
    expect(await page.locator('#daily-chart figcaption').innerText()).toContain(
      `today ${usd(seeded.total)}`,
    );

    // Refusals of the last hour by dimension, as a bar each.
    for (const [dimension, refused] of Object.entries(seeded.refusals)) {
      const bar = page.locator(`#refusals-chart li[data-key="${dimension}"]`);
      expect(await bar.getAttribute('data-value')).toBe(String(refused));
      expect(await bar.locator('.bar-fill').count()).toBe(1);
    }
    expect(await page.locator('#refusals-chart li[data-key="tokens"] .bar-fill').count()).toBe(0);
    expect(await text('#kpi-refusals')).toBe('2');

    // The alert alice raised by crossing 50 % of her day, and the modes.
    const alert = await cells('#alerts-table tbody tr');
    expect(alert[0]).toBe('alice');
    expect(alert[3]).toBe('50%');
    expect(alert[4]).toMatch(/ of \$5\.000000$/);
    // This service has no ALERT_WEBHOOK_URL: the alert is recorded, and never sent.
    expect(alert[5]).toBe('Not sent: no webhook set');
    expect(await text('#kpi-alerts-note')).toBe('Not sent: no webhook set');
    expect(await text('#modes [data-mode="alert_webhook"] dd')).toBe('none');
    expect(await text('#modes [data-mode="store"] dd')).toBe('redis');
    expect(await text('#modes [data-mode="database"] dd')).toBe('postgres');
  });

  it('refreshes by itself: a new commit shows within a few seconds', async () => {
    await seeded.spend('bob', 'gpt-4o-mini', 200_000, 20_000);
    await eventually(
      async () => expect(await text('#kpi-today')).toBe(usd(seeded.total)),
      12_000,
      250,
    );
    const bob = await cells('#top-table tr[data-subject="bob"]');
    expect(bob[2]).toBe(usd(seeded.bySubject.get('bob')!));
  });

  it('fits a 1280×800 screen and a 375 px phone, light and dark (screenshots in test-results/)', async () => {
    await page.screenshot({ path: `${ARTIFACTS}/dashboard.png` });
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-full.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-phone.png`, fullPage: true });
    // No sideways scrolling on a phone: not the page, and not the tables of these amounts.
    const wider = await page
      .locator('html, .table-scroll')
      .evaluateAll((nodes) =>
        nodes
          .filter((node) => node.scrollWidth > node.clientWidth)
          .map((node) => `${node.tagName} ${node.getAttribute('aria-label') ?? ''}`),
      );
    expect(wider).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('works from the keyboard: skip link, pause, the ranking period', async () => {
    // From the top of a fresh page (the key stays in this tab's sessionStorage).
    await page.reload();
    await page.locator('#tiers-table tr[data-key="team"]').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').innerText()).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('pause');
    await page.keyboard.press('Enter');
    expect(await text('#pause')).toBe('Resume updates');
    expect(await text('#status')).toMatch(/^Paused/);
    expect(await page.locator('#announce').textContent()).toBe('Updates paused.');
    await page.keyboard.press('Enter');
    expect(await text('#pause')).toBe('Pause updates');

    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('main');
    await tabTo('top-period');
    await page.keyboard.press('ArrowDown');
    await eventually(
      async () => expect(await text('#top-table thead')).toContain('Spend today'),
      5_000,
      100,
    );
  }, 60_000);

  it('passes an axe-core scan with no critical or serious violation: signed in (light and dark) and out', async () => {
    // Everything the page did so far ran under its own Content-Security-Policy.
    expect(pageErrors).toEqual([]);
    await allowInjectedScripts(browser);
    await page.reload();
    // The reload kept the key: it lives in this tab's sessionStorage.
    await page.locator('#alerts-table tbody tr').first().waitFor({ timeout: 10_000 });
    const signedIn = await axeScan(page);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await axeScan(page);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('#sign-out').click();
    await page.locator('#login').waitFor();
    const signedOut = await axeScan(page);
    for (const violations of [signedIn, dark, signedOut]) {
      const blocking = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
      expect(blocking, describeViolations(blocking)).toEqual([]);
    }
  }, 60_000);
});
