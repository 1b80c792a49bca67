import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../src/report/render-report-html.js';
import { buildReportModel } from '../../src/report/report-model.js';
import { barChartSvg, donutSvg, horizontalBarsSvg, niceScale } from '../../src/report/svg-charts.js';
import { faxRow } from './fax-rows.js';

const NOW = new Date('2025-09-01T00:00:00Z');
const context = { bag: false, sample: { key: 'AC1/2025/01/FX1.pdf', sha256Hex: 'ab'.repeat(32) }, files: ['report.html'], softwareAgent: 'fax-sunset test' };

describe('svg charts', () => {
  it('nice scales are round and cover the maximum', () => {
    expect(niceScale(0)).toEqual({ max: 1, step: 1 });
    expect(niceScale(7)).toEqual({ max: 8, step: 2 });
    expect(niceScale(1234).max).toBeGreaterThanOrEqual(1234);
  });

  it('stacked bars draw one rect per non-zero value, taller for larger values', () => {
    const svg = barChartSvg({
      title: 't',
      categories: ['2025-01', '2025-02'],
      series: [
        { name: 'a', color: '#111', values: [10, 0] },
        { name: 'b', color: '#222', values: [5, 20] },
      ],
    });
    const heights = [...svg.matchAll(/class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(3);
    expect(heights[2]!).toBeGreaterThan(heights[0]!);
    expect(svg.startsWith('<svg')).toBe(true);
  });

  it('escapes text and handles empty data', () => {
    expect(horizontalBarsSvg({ title: '<x>', rows: [{ label: '<script>', value: 1, color: '#000' }] })).not.toContain('<script>');
    expect(barChartSvg({ title: 'e', categories: [], series: [] })).toContain('no data yet');
    const donut = donutSvg({ title: 'd', slices: [{ label: 'a', value: 3, color: '#0f0' }, { label: 'b', value: 1, color: '#f00' }], centerText: '75%' });
    expect(donut.match(/class="slice"/g)).toHaveLength(2);
  });
});

describe('renderReportHtml', () => {
  const faxes = [
    faxRow({ state: 'verified', dateCreated: '2025-01-05T00:00:00Z' }),
    faxRow({ state: 'failed', dateCreated: '2025-02-01T00:00:00Z', lastError: 'boom <b>&' }),
  ];

  it('is one self-contained page: no script, no external reference', () => {
    const html = renderReportHtml(buildReportModel({ faxes, now: NOW, runs: [], chain: { intact: true, brokenAtId: null, events: 3 }, storeUrl: 's3://bucket/pre' }), context);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(5);
    expect(html).toContain('boom &lt;b&gt;&amp;');
    expect(html).toContain('data-intact="true"');
    expect(html).toContain('aws s3api head-object --bucket bucket --key pre/AC1/2025/01/FX1.pdf --checksum-mode ENABLED');
    expect(html).toContain('sha256sum -c tagmanifest-sha256.txt');
    expect(html).toContain('bagit.py --validate');
  });

  it('says loudly when the event chain is broken', () => {
    const html = renderReportHtml(buildReportModel({ faxes, now: NOW, runs: [], chain: { intact: false, brokenAtId: 7, events: 9 } }), context);
    expect(html).toContain('data-intact="false"');
    expect(html).toContain('BROKEN at event #7');
  });

  it('never rounds an incomplete archive up to 100%', () => {
    const many = Array.from({ length: 2000 }, (_, i) => faxRow({ state: i === 0 ? 'listed' : 'verified' }));
    const html = renderReportHtml(buildReportModel({ faxes: many, now: NOW, runs: [], chain: { intact: true, brokenAtId: null, events: 0 } }), context);
    expect(html).toContain('99.9%');
    expect(html).not.toMatch(/>100\.0%</);
  });
});
