import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uploadPathProblem } from './spec-store.js';

describe('uploaded spec paths', () => {
  it('are plain relative paths', () => {
    for (const ok of ['checkout.yaml', 'team/a/b.yml', 'x.json', 'a-b_c.d/e.yaml'])
      expect(uploadPathProblem(ok), ok).toBeUndefined();
    const refused: Array<[string, RegExp]> = [
      ['/etc/passwd', /relative/],
      ['../x.yaml', /"\.\."/],
      ['a/../../x.yaml', /"\.\."/],
      ['./x.yaml', /"\."/],
      ['a\\b.yaml', /"\/"/],
      ['C:\\x.yaml', /"\/"/],
      ['a//b.yaml', /empty segments/],
      ['a/', /empty segments/],
      ['', /1–200/],
      ['x'.repeat(201), /1–200/],
      ['a b.yaml', /letters, digits/],
      ['%2e%2e/x.yaml', /letters, digits/],
      ['ä.yaml', /letters, digits/],
    ];
    for (const [path, problem] of refused) expect(uploadPathProblem(path), path).toMatch(problem);
  });

  it('never resolve outside the upload, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '.', '/', '\\', '-', ':', '%') }), (path) => {
        if (uploadPathProblem(path) !== undefined) return;
        expect(path.startsWith('/')).toBe(false);
        expect(path.split('/')).not.toContain('..');
        expect(path).not.toContain('\\');
        expect(new URL(path, 'file:///root/uploads/').pathname.startsWith('/root/uploads/')).toBe(true);
      }),
    );
  });
});
