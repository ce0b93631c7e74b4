import { describe, expect, it } from 'vitest';
import { RecentMap, detachedString } from './recent.map.js';

describe('RecentMap', () => {
  it('keeps at most twice its entries, and a key in use survives the turnovers', () => {
    const map = new RecentMap<number>({ entries: 4 });
    map.set('hot', 0);
    for (let i = 1; i <= 100; i++) {
      map.set(`k${i}`, i);
      expect(map.get('hot')).toBe(0); // a hit in the older generation is carried forward
      expect(map.size).toBeLessThanOrEqual(8);
    }
    expect(map.get('k1')).toBeUndefined(); // dropped two turnovers ago
    expect(map.get('k100')).toBe(100);
  });

  it('forgets everything on clear', () => {
    const map = new RecentMap<string>({ entries: 2 });
    map.set('a', 'A');
    map.set('b', 'B');
    map.clear();
    expect([map.get('a'), map.get('b'), map.size]).toEqual([undefined, undefined, 0]);
  });

  it('copies long keys, keeping their text', () => {
    const long = 'x'.repeat(40);
    expect(detachedString(long.slice(1))).toBe('x'.repeat(39));
    expect(detachedString('short')).toBe('short');
  });

  it('turns over on characters of keys too, and getRecent sees the newer generation only', () => {
    const map = new RecentMap<number>({ entries: 100, chars: 10 });
    map.set('aaaaa', 1);
    expect(map.getRecent('aaaaa')).toBe(1);
    map.set('bbbbb', 2); // 10 characters: the generation turns over
    expect(map.getRecent('aaaaa')).toBeUndefined();
    expect(map.getOlder('aaaaa')).toBe(1); // carried forward
    expect(map.getRecent('aaaaa')).toBe(1);
  });
});
