/** Unit tests of the report's charts: Vega renders SVG in Node, named for assistive technology, with a Japanese font. */
import { describe, expect, it } from 'vitest';
import { accessibleSvg, alertsChart, CHART_FONTS, trendChart } from './charts.js';
import { reportFixture } from './fixture.js';

describe('charts', { timeout: 30_000 }, () => {
  it('renders the trend as SVG with every SLO and the 6 months', async () => {
    const chart = await trendChart(reportFixture('en'));
    expect(chart.svg.startsWith('<svg')).toBe(true);
    expect(chart.svg).not.toContain('xmlns');
    expect(chart.svg).not.toMatch(/https?:/);
    for (const label of ['Jun 2026', 'Nov 2026', 'checkout-availability', 'payments-availability']) {
      expect(chart.svg).toContain(label);
    }
    expect(chart.summary).toContain('checkout-availability: attainment 99.951% → 99.812%');
  });

  it('writes Japanese labels in a Japanese-capable font', async () => {
    const chart = await alertsChart(reportFixture('ja'));
    expect(chart.svg).toContain('ページ');
    expect(chart.svg).toContain('チケット');
    expect(chart.svg).toContain('IPAPGothic');
    expect(CHART_FONTS.en).toMatch(/IPA/);
    expect(chart.summary).toContain('6 週間でページ 15 件、チケット 28 件。');
  });

  it('escapes the title and the description it adds', () => {
    const svg = accessibleSvg(
      '<svg xmlns="http://www.w3.org/2000/svg" role="graphics-document" width="1"><g/></svg>',
      'c',
      '<b>t</b>',
      '"&',
    );
    expect(svg).toBe(
      '<svg width="1" role="img" aria-labelledby="c-title c-desc"><title id="c-title">&lt;b&gt;t&lt;/b&gt;</title><desc id="c-desc">&quot;&amp;</desc><g/></svg>',
    );
  });
});
