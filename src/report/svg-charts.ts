/**
 * Small inline SVG charts for the self-contained HTML report: no script, no fonts, no network,
 * so the page renders the same in any browser, printed or archived for years. Pure functions
 * from numbers to markup; every text is escaped.
 */

export interface Series {
  name: string;
  color: string;
  values: readonly number[];
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Round, readable axis maximum and tick step for a data maximum. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  const nice = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10;
  const step = Math.max(1, nice * magnitude);
  return { max: Math.ceil(max / step) * step, step };
}

export function compactNumber(n: number): string {
  if (Math.abs(n) >= 1_000_000) return `${trim(n / 1_000_000)}M`;
  if (Math.abs(n) >= 10_000) return `${trim(n / 1000)}k`;
  return n.toLocaleString('en-US');
}

function trim(n: number): string {
  return n.toFixed(n < 10 ? 1 : 0).replace(/\.0$/, '');
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

/**
 * Vertical bars per category, stacked when there are several series; an optional line (e.g. a
 * cumulative total) drawn over them on its own right-hand scale.
 */
export function barChartSvg(options: {
  title: string;
  categories: readonly string[];
  series: readonly Series[];
  line?: Series;
  width?: number;
  height?: number;
}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const margin = { top: 16, right: options.line ? 48 : 16, bottom: 52, left: 52 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const n = options.categories.length;
  const totals = options.categories.map((_, i) => options.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const scale = niceScale(Math.max(0, ...totals));
  const y = (v: number) => margin.top + plotH - (v / scale.max) * plotH;
  const slot = n > 0 ? plotW / n : plotW;
  const barW = Math.max(2, Math.min(48, slot * 0.7));

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
  );
  for (let v = 0; v <= scale.max; v += scale.step) {
    const yy = fmt(y(v));
    parts.push(
      `<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#e5e7eb" stroke-width="1"/>`,
      `<text x="${margin.left - 6}" y="${yy}" dy="0.32em" text-anchor="end" font-size="11" fill="#6b7280">${compactNumber(v)}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(n / 12));
  options.categories.forEach((category, i) => {
    const x = margin.left + slot * i + (slot - barW) / 2;
    let base = 0;
    for (const s of options.series) {
      const v = s.values[i] ?? 0;
      if (v > 0) {
        const top = y(base + v);
        const h = y(base) - top;
        parts.push(
          `<rect class="bar" x="${fmt(x)}" y="${fmt(top)}" width="${fmt(barW)}" height="${fmt(Math.max(h, 0.5))}" fill="${s.color}" rx="1.5"><title>${escapeXml(`${category} ${s.name}: ${v.toLocaleString('en-US')}`)}</title></rect>`,
        );
      }
      base += v;
    }
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${fmt(x + barW / 2)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" fill="#374151">${escapeXml(category)}</text>`,
      );
    }
  });
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${fmt(y(0))}" y2="${fmt(y(0))}" stroke="#9ca3af" stroke-width="1"/>`,
  );
  if (options.line && n > 0) {
    const lineScale = niceScale(Math.max(0, ...options.line.values));
    const ly = (v: number) => margin.top + plotH - (v / lineScale.max) * plotH;
    const points = options.line.values.map((v, i) => `${fmt(margin.left + slot * i + slot / 2)},${fmt(ly(v))}`).join(' ');
    parts.push(`<polyline class="line" points="${points}" fill="none" stroke="${options.line.color}" stroke-width="2.5" stroke-linejoin="round"/>`);
    options.line.values.forEach((v, i) => {
      parts.push(`<circle cx="${fmt(margin.left + slot * i + slot / 2)}" cy="${fmt(ly(v))}" r="3" fill="${options.line?.color}"><title>${escapeXml(`${options.categories[i] ?? ''} ${options.line?.name}: ${v.toLocaleString('en-US')}`)}</title></circle>`);
    });
    for (let v = 0; v <= lineScale.max; v += lineScale.step) {
      parts.push(`<text x="${width - margin.right + 6}" y="${fmt(ly(v))}" dy="0.32em" font-size="11" fill="${options.line.color}">${compactNumber(v)}</text>`);
    }
  }
  // Legend under the axis labels.
  const legend = [...options.series, ...(options.line ? [options.line] : [])];
  let lx = margin.left;
  for (const s of legend) {
    parts.push(
      `<rect x="${lx}" y="${height - 18}" width="11" height="11" rx="2" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="${height - 8}" font-size="12" fill="#374151">${escapeXml(s.name)}</text>`,
    );
    lx += 28 + s.name.length * 7;
  }
  if (n === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#6b7280">no data yet</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars, one per row, labelled with the value and its share. */
export function horizontalBarsSvg(options: {
  title: string;
  rows: readonly { label: string; value: number; color: string }[];
  width?: number;
  labelWidth?: number;
}): string {
  const width = options.width ?? 420;
  const rowH = 26;
  const labelW = options.labelWidth ?? 120;
  const valueW = 90;
  const height = Math.max(1, options.rows.length) * rowH + 8;
  const max = Math.max(1, ...options.rows.map((r) => r.value));
  const total = options.rows.reduce((sum, r) => sum + r.value, 0);
  const barMax = width - labelW - valueW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
  ];
  options.rows.forEach((row, i) => {
    const yy = 4 + i * rowH;
    const w = row.value > 0 ? Math.max(2, (row.value / max) * barMax) : 0;
    const share = total > 0 ? ` (${((row.value / total) * 100).toFixed(row.value / total < 0.1 ? 1 : 0)}%)` : '';
    parts.push(
      `<text x="${labelW - 8}" y="${yy + rowH / 2}" dy="0.32em" text-anchor="end" font-size="12" fill="#374151">${escapeXml(row.label)}</text>`,
      `<rect x="${labelW}" y="${yy + 4}" width="${barMax}" height="${rowH - 8}" rx="3" fill="#f3f4f6"/>`,
      `<rect class="bar" x="${labelW}" y="${yy + 4}" width="${fmt(w)}" height="${rowH - 8}" rx="3" fill="${row.color}"><title>${escapeXml(`${row.label}: ${row.value.toLocaleString('en-US')}`)}</title></rect>`,
      `<text x="${labelW + barMax + 8}" y="${yy + rowH / 2}" dy="0.32em" font-size="12" fill="#111827">${escapeXml(row.value.toLocaleString('en-US') + share)}</text>`,
    );
  });
  if (options.rows.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#6b7280">no data yet</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** A donut of shares with a headline in the middle (e.g. "98.2%" / "verified"). */
export function donutSvg(options: {
  title: string;
  slices: readonly { label: string; value: number; color: string }[];
  centerText: string;
  centerSub?: string;
  size?: number;
}): string {
  const size = options.size ?? 200;
  const r = size / 2 - 14;
  const c = size / 2;
  const stroke = 26;
  const circumference = 2 * Math.PI * r;
  const total = options.slices.reduce((sum, s) => sum + Math.max(0, s.value), 0);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart donut" viewBox="0 0 ${size} ${size}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<circle cx="${c}" cy="${c}" r="${fmt(r)}" fill="none" stroke="#f3f4f6" stroke-width="${stroke}"/>`,
  ];
  let offset = 0;
  for (const slice of options.slices) {
    if (total <= 0 || slice.value <= 0) continue;
    const len = (slice.value / total) * circumference;
    parts.push(
      `<circle class="slice" cx="${c}" cy="${c}" r="${fmt(r)}" fill="none" stroke="${slice.color}" stroke-width="${stroke}" stroke-dasharray="${fmt(len)} ${fmt(circumference - len)}" stroke-dashoffset="${fmt(-offset)}" transform="rotate(-90 ${c} ${c})"><title>${escapeXml(`${slice.label}: ${slice.value.toLocaleString('en-US')}`)}</title></circle>`,
    );
    offset += len;
  }
  parts.push(
    `<text x="${c}" y="${c}" text-anchor="middle" font-size="${fmt(size / 7)}" font-weight="700" fill="#111827">${escapeXml(options.centerText)}</text>`,
  );
  if (options.centerSub) {
    parts.push(`<text x="${c}" y="${fmt(c + size / 9)}" text-anchor="middle" font-size="12" fill="#6b7280">${escapeXml(options.centerSub)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
