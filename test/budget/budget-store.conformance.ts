import { describe, expect, it } from 'vitest';
import { callerCases } from './conformance/caller.cases.js';
import { degradationCases } from './conformance/degradation.cases.js';
import { dimensionCases } from './conformance/dimensions.cases.js';
import { expiryCases } from './conformance/expiry.cases.js';
import { idempotencyCases } from './conformance/idempotency.cases.js';
import { limitEditCases } from './conformance/limit-edits.cases.js';
import { monthlyCases } from './conformance/monthly.cases.js';
import { scopeCases } from './conformance/scope.cases.js';
import { settlementCases } from './conformance/settlement.cases.js';
import {
  type HarnessFactory,
  allowed,
  request,
  settled,
  useHarness,
} from './budget-store.harness.js';

export type { HarnessFactory, StoreHarness } from './budget-store.harness.js';

/**
 * The behaviour every BudgetStore keeps (SPEC §3, §4), run against one implementation.
 * Redis and the in-process store both call it, so they cannot drift apart.
 */
export function budgetStoreConformance(name: string, make: HarnessFactory): void {
  describe(`${name}: budget store conformance`, () => {
    describe('dimensions', () => dimensionCases(make));
    describe('degradation, capacity, money', () => degradationCases(make));
    describe('idempotency', () => idempotencyCases(make));
    describe('limit edits', () => limitEditCases(make));
    describe('settlement', () => settlementCases(make));
    describe('expiry and load', () => expiryCases(make));
    describe('monthly cost', () => monthlyCases(make));
    describe('scopes', () => scopeCases(make));
    describe('the caller', () => callerCases(make));
    describe('subject ids', () => subjectIdCases(make));
  });
}

function subjectIdCases(make: HarnessFactory): void {
  const h = useHarness(make);

  it('keeps any printable subject apart from every other, braces and globs included', async () => {
    const { store } = h();
    const subjects = [
      '{a}b',
      '}x',
      'a',
      '~a',
      '*',
      'user[1]?',
      'ünï cödé 日本',
      'a.b.c',
      `~${Buffer.from('}x').toString('base64url')}`,
    ];
    const limits = { requests: { capacity: 2, perMinute: 1 }, concurrent: 5 };
    for (const subject of subjects) {
      const ok = allowed(await store.reserve(request(subject, limits, { ttlSeconds: 1 })));
      expect(ok.reservation.subject).toBe(subject);
      expect(ok.state.requests!.remaining).toBe(1);
    }
    const second = allowed(await store.reserve(request('}x', limits)));
    expect(
      settled(
        await store.commit(second.reservation.reservationId, {
          promptTokens: 1,
          completionTokens: 1,
        }),
      ).settlement.subject,
    ).toBe('}x');
    h().advance(1_500);
    const expired = await store.expireDue('release');
    expect(expired.map((s) => s.subject).sort()).toEqual([...subjects].sort());
  });
}
