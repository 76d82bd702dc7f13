import { describe, expect, it } from 'vitest';
import { documentAt } from './spec-source-routes.js';

describe('documentAt', () => {
  const text = [
    'apiVersion: openslo/v1',
    'kind: Service',
    '---',
    'kind: SLO',
    'metadata:',
    '  name: a',
    '---',
    'kind: SLO',
    '',
  ].join('\n');

  it('answers the YAML document that contains the line, and its first line', () => {
    expect(documentAt(text, 1)).toEqual({ yaml: 'apiVersion: openslo/v1\nkind: Service', firstLine: 1 });
    expect(documentAt(text, 4)).toEqual({ yaml: 'kind: SLO\nmetadata:\n  name: a', firstLine: 4 });
    expect(documentAt(text, 8)).toEqual({ yaml: 'kind: SLO', firstLine: 8 });
  });

  it('answers the whole text when there is one document', () => {
    expect(documentAt('kind: SLO\nspec: {}\n', 2)).toEqual({ yaml: 'kind: SLO\nspec: {}', firstLine: 1 });
  });
});
