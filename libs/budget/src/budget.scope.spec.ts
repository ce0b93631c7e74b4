import { describe, expect, it } from 'vitest';
import { type ScopeLevels, reserveScoped } from './budget.scope.js';
import type { Limits, ReserveRequest, ReserveResult } from './budget.types.js';

// The fake levels below never read limits.
const UNLIMITED = {} as Limits;

const REQUEST: ReserveRequest = {
  subject: 'user',
  tier: 'member',
  model: 'gpt-4o-mini',
  limits: UNLIMITED,
  pricing: { inputPicosPerToken: 150_000, outputPicosPerToken: 600_000 },
  promptTokens: 10,
  completionTokens: 10,
  ttlSeconds: 60,
  scope: ['team', 'org'].map((subject) => ({ subject, tier: 'team', limits: UNLIMITED })),
};

/**
 * Levels that hold a ref per subject; `behaviour` makes a level's reserve refuse or throw (a
 * script that timed out) and a level's cancel throw its first n times.
 */
function fakeLevels(behaviour: {
  refuse?: string;
  reserveThrows?: string;
  cancelFailures?: Record<string, number>;
}): ScopeLevels & { held: Set<string>; cancels: string[] } {
  const held = new Set<string>();
  const cancels: string[] = [];
  const failures = { ...behaviour.cancelFailures };
  return {
    held,
    cancels,
    reserveLevel: (req, ref = 'ref1') => {
      if (req.subject === behaviour.reserveThrows) {
        // It reserved, but its answer never came back in time.
        held.add(req.subject);
        return Promise.reject(new Error('Command timed out'));
      }
      if (req.subject === behaviour.refuse) {
        return Promise.resolve({
          allowed: false,
          reason: 'limited',
          dimension: 'daily_cost',
          retryAfterMs: 1_000,
          state: {},
        } satisfies ReserveResult);
      }
      held.add(req.subject);
      return Promise.resolve({
        allowed: true,
        replayed: false,
        state: {},
        reservation: {
          reservationId: `${req.subject}.${ref}`,
          subject: req.subject,
          tier: req.tier,
          model: req.model,
          promptTokens: req.promptTokens,
          completionTokens: req.completionTokens,
          costMicros: 8,
          pricing: req.pricing,
          reservedAtMs: 0,
          expiresAtMs: 60_000,
        },
      });
    },
    cancelLevel: (subject) => {
      cancels.push(subject);
      if ((failures[subject] ?? 0) > 0) {
        failures[subject]! -= 1;
        return Promise.reject(new Error('LATE the caller gave up 5 ms before this ran'));
      }
      held.delete(subject);
      return Promise.resolve({});
    },
    settleLevel: () => Promise.resolve(),
  };
}

describe('reserveScoped compensation', () => {
  it('answers a refusal even when a cancel fails twice, and leaves nothing held', async () => {
    const levels = fakeLevels({ refuse: 'org', cancelFailures: { team: 2 } });
    const answer = await reserveScoped(levels, REQUEST);
    expect(answer).toMatchObject({ allowed: false, scopeSubject: 'org' });
    expect([...levels.held]).toEqual([]);
    expect(levels.cancels.filter((s) => s === 'team')).toHaveLength(3);
  });

  it('undoes every level, the one that timed out included, before the error goes up', async () => {
    const levels = fakeLevels({ reserveThrows: 'org' });
    await expect(reserveScoped(levels, REQUEST)).rejects.toThrow('Command timed out');
    expect([...levels.held]).toEqual([]);
    expect(levels.cancels.sort()).toEqual(['org', 'team', 'user']);
  });

  it('gives up on a cancel after three failures: the failure goes up', async () => {
    const levels = fakeLevels({ refuse: 'org', cancelFailures: { user: 3 } });
    await expect(reserveScoped(levels, REQUEST)).rejects.toThrow(/^LATE/);
    expect([...levels.held]).toEqual(['user']);
  });
});
