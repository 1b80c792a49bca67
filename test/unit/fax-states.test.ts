import { describe, expect, it } from 'vitest';
import { canTransition, FAX_STATES, FAX_TRANSITIONS, isDeletable } from '../../src/catalog/fax-states.js';

describe('fax state machine', () => {
  it('only verified and metadata-only faxes may be deleted', () => {
    const deletable = FAX_STATES.filter(isDeletable);
    expect(deletable.sort()).toEqual(['metadata-only', 'verified']);
    for (const from of FAX_STATES) {
      expect(canTransition(from, 'deleted')).toBe(isDeletable(from));
    }
  });

  it('deleted is terminal and every target is a known state', () => {
    expect(FAX_TRANSITIONS.deleted).toEqual([]);
    for (const targets of Object.values(FAX_TRANSITIONS)) {
      for (const to of targets) expect(FAX_STATES).toContain(to);
    }
  });

  it('the happy path is allowed step by step, and no step may be skipped', () => {
    expect(canTransition('listed', 'fetched')).toBe(true);
    expect(canTransition('fetched', 'stored')).toBe(true);
    expect(canTransition('stored', 'verified')).toBe(true);
    expect(canTransition('listed', 'verified')).toBe(false);
    expect(canTransition('fetched', 'verified')).toBe(false);
    expect(canTransition('listed', 'stored', { hasMedia: true })).toBe(false);
    expect(canTransition('listed', 'stored', { hasMedia: false })).toBe(true);
    expect(canTransition('stored', 'metadata-only', { hasMedia: true })).toBe(false);
    expect(canTransition('stored', 'verified', { hasMedia: false })).toBe(false);
  });
});
