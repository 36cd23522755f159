// Placement policy: category place first, rules in order, match must hold for every sibling, globs, default.
import { describe, expect, it } from 'vitest';
import { desiredPlacement, ruleMatches, type PolicyMember } from '../../../src/policy/placement.js';
import { globMatches } from '../../../src/policy/glob.js';
import { baseConfig, rule, category, NOW } from '../plan/fixtures.js';

function member(over: Partial<PolicyMember['torrent']> = {}, size: number | null = 1000, relPath: string | null = 'movies/Foo'): PolicyMember {
  return { torrent: { hash: 'h', category: 'movies', tags: [], seedingTimeSec: 10 * 86_400, ...over }, payloadSize: size, relPath };
}

describe('desiredPlacement', () => {
  const cfg = baseConfig({
    placement: {
      default: 'stash',
      rules: [rule('tagged', 'pool', { tags: ['cold', 'archive'] }), rule('old', 'pool', { minSeedingDays: 30 }), rule('big', 'keep', { minSize: 5000 })],
    },
  });

  it('first matching rule in order wins', () => {
    expect(desiredPlacement({ members: [member({ tags: ['archive'], seedingTimeSec: 90 * 86_400 })] }, cfg, NOW)).toEqual({ fs: 'pool', rule: 'tagged', reason: 'rule "tagged" places it on pool' });
    expect(desiredPlacement({ members: [member({ seedingTimeSec: 30 * 86_400 })] }, cfg, NOW).rule).toBe('old');
    expect(desiredPlacement({ members: [member({}, 6000)] }, cfg, NOW)).toMatchObject({ fs: 'keep', rule: 'big', reason: 'rule "big" keeps it where it is' });
  });

  it('a rule applies only when it matches EVERY sibling', () => {
    const p = desiredPlacement({ members: [member({ tags: ['cold'] }), member({ tags: [] })] }, cfg, NOW);
    expect(p).toEqual({ fs: 'stash', rule: null, reason: 'no rule matched; the default places it on stash' });
  });

  it('a category place acts as a rule before all others, when all siblings agree', () => {
    const c = baseConfig({ placement: cfg.placement });
    c.categories = { movies: category('movies', 'stash'), xs: category('cross-seed/{tracker}', 'stash'), tv: category('tv', 'pool') };
    expect(desiredPlacement({ members: [member({ tags: ['cold'] })] }, c, NOW)).toEqual({ fs: 'stash', rule: 'category:movies', reason: 'category "movies" belongs on stash' });
    expect(desiredPlacement({ members: [member(), member({ category: 'xs' })] }, c, NOW).rule).toBe('category:movies,xs');
    // Disagreeing categories fall through to the rules.
    expect(desiredPlacement({ members: [member({ tags: ['cold'] }), member({ category: 'tv', tags: ['cold'] })] }, c, NOW).rule).toBe('tagged');
  });

  it('unknown size or path never matches minSize / paths', () => {
    expect(ruleMatches({ minSize: 1 }, member({}, null))).toBe(false);
    expect(ruleMatches({ paths: ['**'] }, member({}, 1, null))).toBe(false);
    expect(ruleMatches({}, member())).toBe(true);
  });

  it('categories any-of, tags any-of, and all present criteria together', () => {
    expect(ruleMatches({ categories: ['tv', 'movies'] }, member())).toBe(true);
    expect(ruleMatches({ categories: ['tv'] }, member())).toBe(false);
    expect(ruleMatches({ categories: ['movies'], minSeedingDays: 11 }, member())).toBe(false);
  });
});

describe('path globs', () => {
  it.each([
    ['movies/*', 'movies/Foo', true],
    ['movies/*', 'movies/Foo/bar', false],
    ['movies/**', 'movies/Foo/bar', true],
    ['movies/**', 'movies', true],
    ['**/Foo', 'a/b/Foo', true],
    ['**/Foo', 'Foo', true],
    ['cross-seed/*/Foo*', 'cross-seed/trk/Foo.2020', true],
    ['cross-seed/*/Foo*', 'cross-seed/a/b/Foo', false],
    ['movies/Foo (2020)', 'movies/Foo (2020)', true],
    ['movies/Fo?', 'movies/Foo', true],
    ['movies/[x]', 'movies/x', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(globMatches(g, p)).toBe(want);
  });
});
