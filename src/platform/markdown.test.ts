import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { markdownToText, renderMarkdown } from './markdown.js';

const ATTACKS = [
  '<script>alert(1)</script>',
  '<img src=x onerror="alert(1)">',
  '[click](javascript:alert(1))',
  '<a href="javascript:alert(1)">x</a>',
  '<iframe src="https://evil.example"></iframe>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<svg onload=alert(1)>',
  '[x](//evil.example)',
  '<details open ontoggle=alert(1)>',
];

describe('renderMarkdown', () => {
  it('renders the formatting postmortems use', () => {
    const html = renderMarkdown(
      '# Summary\n\n**Impact**: 5% of checkouts\n\n- [ ] fix it\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[runbook](https://runbooks.example.com/x)',
    );
    expect(html).toContain('<h1>Summary</h1>');
    expect(html).toContain('<strong>Impact</strong>');
    expect(html).toContain('<table>');
    expect(html).toContain(
      '<a href="https://runbooks.example.com/x" rel="noopener noreferrer nofollow">runbook</a>',
    );
  });

  it.each(ATTACKS)('leaves %s inert', (attack) => {
    const html = renderMarkdown(`before ${attack} after`);
    expect(html).not.toMatch(/<script|<iframe|<svg|<img|\son\w+\s*=|javascript:|style=|href="\/\//i);
  });

  it('never lets an event handler, script or javascript: URL through, whatever the input', () => {
    const pieces = fc.constantFrom(
      ...ATTACKS,
      '**b**',
      '<b>',
      '</a>',
      '"',
      "'",
      '\n',
      ' ',
      '<',
      '>',
      '](',
      '[x',
      'on',
      'javascript:',
      '=',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }), (parts) => {
        const html = renderMarkdown(parts.join(''));
        expect(html).not.toMatch(/<script|<iframe|<svg|<img|<[^>]*\son\w+\s*=|href="javascript:/i);
      }),
      { numRuns: 300 },
    );
  });
});

describe('markdownToText', () => {
  it('keeps the words and drops the markup', () => {
    expect(markdownToText('We are looking into **failed orders** & [refunds](https://x.example/r).')).toBe(
      'We are looking into failed orders & refunds.',
    );
    expect(markdownToText('# Update\n\n- a < b\n- "c"\n\n\n\nend')).toBe('Update\n\na < b\n"c"\n\nend');
  });

  it.each(ATTACKS)('leaves nothing of %s that could run', (attack) => {
    const text = markdownToText(`before ${attack} after`);
    expect(text).not.toMatch(/<script|onerror|onload|ontoggle|javascript:|<iframe|<svg|<img/i);
    expect(text).toMatch(/^before/);
  });

  it('never throws and never returns markup for arbitrary markdown', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (markdown) => {
        expect(markdownToText(markdown)).not.toMatch(/<(script|img|iframe|svg)/i);
      }),
    );
  });
});
