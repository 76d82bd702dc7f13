import { describe, expect, it } from 'vitest';
import { canMovePostmortem } from './postmortem.js';

describe('postmortem status', () => {
  it('goes draft ⇄ in review → published, and published is final', () => {
    expect(canMovePostmortem('draft', 'in-review')).toBe(true);
    expect(canMovePostmortem('in-review', 'draft')).toBe(true);
    expect(canMovePostmortem('in-review', 'published')).toBe(true);
    expect(canMovePostmortem('draft', 'published')).toBe(false);
    expect(canMovePostmortem('published', 'draft')).toBe(false);
    expect(canMovePostmortem('published', 'in-review')).toBe(false);
  });
});
