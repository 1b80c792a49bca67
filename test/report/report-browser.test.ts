/**
 * The HTML report in a real headless browser (Debian's chromium through playwright-core): it
 * renders, its charts are there and not empty, nothing is requested from the network, and a
 * screenshot is left in test-artifacts/report.png for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { writeReport } from '../../src/report/write-report.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { buildArchive } from './archive-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`[report-browser] skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

let dir: string;
let reportPath: string;

beforeAll(async () => {
  if (!hasChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-report-browser-'));
  const store = new FsMediaStore(join(dir, 'media'));
  await store.check();
  const catalog = openCatalog(join(dir, 'catalog.sqlite'));
  try {
    await buildArchive(catalog, store, new Date());
    await writeReport({ catalog, store, outDir: join(dir, 'out'), organization: 'Example Health Clinic' });
  } finally {
    catalog.close();
    await store.close();
  }
  reportPath = join(dir, 'out', 'report.html');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report.html in Chromium', () => {
  it.skipIf(!hasChromium)('renders totals and non-empty charts, requests nothing from the network, and leaves a screenshot', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
      const requested: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        requested.push(url);
        return url.startsWith('file://') ? route.continue() : route.abort();
      });
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });

      expect(await page.title()).toBe('Fax archive compliance report — Example Health Clinic');
      expect(await page.locator('#card-total-faxes').getAttribute('data-value')).toBe('12');
      expect(await page.locator('#card-total-archived').getAttribute('data-value')).toBe('8');
      expect(await page.locator('#card-total-faxes .value').innerText()).toBe('12');
      expect(await page.locator('#chain-status').getAttribute('data-intact')).toBe('true');

      const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return { label: svg.getAttribute('aria-label'), width: box.width, height: box.height, marks: svg.querySelectorAll('.bar, .slice, .line').length };
        }),
      );
      expect(charts.length).toBeGreaterThanOrEqual(6);
      for (const chart of charts) {
        expect(chart.width, chart.label ?? '').toBeGreaterThan(100);
        expect(chart.height, chart.label ?? '').toBeGreaterThan(50);
        expect(chart.marks, chart.label ?? '').toBeGreaterThan(0);
      }
      const labels = charts.map((c) => c.label);
      for (const wanted of ['Faxes per month', 'Faxes by Twilio status', 'proven archived', 'deleted from Twilio']) {
        expect(labels.some((l) => l?.includes(wanted)), wanted).toBe(true);
      }

      expect(requested.filter((url) => !url.startsWith('file://'))).toEqual([]);
      expect(requested).toEqual([pathToFileURL(reportPath).href]);

      const artifacts = resolve('test-artifacts');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      expect(statSync(join(artifacts, 'report.png')).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });

  it.skipIf(!hasChromium)('at 390 px (a phone) nothing spills off the screen; printed, the tables are whole (issue 17)', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      const layout = await page.locator('html').evaluate((root) => ({
        scrollWidth: root.scrollWidth,
        clientWidth: root.clientWidth,
        // Every panel, card and banner inside the screen (tables may scroll inside their own box).
        outside: [...root.querySelectorAll('.panel, .card, .banner, header.top, footer')]
          .map((el) => ({ cls: el.className, right: el.getBoundingClientRect().right }))
          .filter((box) => box.right > root.clientWidth + 0.5),
      }));
      expect(layout.clientWidth).toBe(390);
      expect(layout.outside).toEqual([]);
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
      const artifacts = resolve('test-artifacts');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report-390px.png'), fullPage: true });

      await page.emulateMedia({ media: 'print' });
      const printed = await page.locator('.scroll').evaluateAll((boxes) => boxes.map((el) => el.ownerDocument.defaultView!.getComputedStyle(el).overflowY));
      expect(printed.length).toBeGreaterThan(0);
      expect(new Set(printed)).toEqual(new Set(['visible']));
      const pdf = await page.pdf({ path: join(artifacts, 'report.pdf'), format: 'A4' });
      expect(pdf.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
