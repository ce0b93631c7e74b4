import { describe, expect, it } from 'vitest';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  subjectName,
  useHarness,
} from '../budget-store.harness.js';

/** Exact reference for the cost formula: BigInt, no floats anywhere. */
function referenceCost(
  prompt: number,
  completion: number,
  inPico: number,
  outPico: number,
): number {
  const pico = BigInt(prompt) * BigInt(inPico) + BigInt(completion) * BigInt(outPico);
  return Number((pico + 999_999n) / 1_000_000n);
}

/** Graceful degradation, requests that can never fit, exact money. */
export function degradationCases(make: HarnessFactory): void {
  const h = useHarness(make);

  describe('degradation (min completion)', () => {
    it('grants the largest completion the tokens bucket still holds', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { tokens: { capacity: 1_000, perMinute: 1 } };
      allowed(
        await store.reserve(request(subject, limits, { promptTokens: 100, completionTokens: 700 })),
      );
      // 200 left: prompt 100 + at most 100 of the 500 asked.
      const ok = allowed(
        await store.reserve(
          request(subject, limits, {
            promptTokens: 100,
            completionTokens: 500,
            minCompletionTokens: 50,
          }),
        ),
      );
      expect(ok.reservation.completionTokens).toBe(100);
      expect(ok.reservation.costMicros).toBe(100 + 200);
      expect(ok.state.tokens!.remaining).toBe(0);

      const no = refused(
        await store.reserve(
          request(subject, limits, {
            promptTokens: 100,
            completionTokens: 500,
            minCompletionTokens: 50,
          }),
        ),
      );
      expect(no).toMatchObject({ reason: 'limited', dimension: 'tokens' });
      // Waits for prompt + min (150 tokens at 1/min), not for the whole estimate.
      expect(no.retryAfterMs).toBeGreaterThan(149 * 60_000);
      expect(no.retryAfterMs).toBeLessThanOrEqual(150 * 60_000);
    });

    it('grants the largest completion the daily budget still affords, to the micro-dollar', async () => {
      const { store } = h();
      // 1 µ$ per prompt token, 2.999999 µ$ per completion token: rounding up matters.
      const pricing = { inputPicosPerToken: 1_000_000, outputPicosPerToken: 2_999_999 };
      const ok = allowed(
        await store.reserve(
          request(
            subjectName(),
            { dailyCostMicros: 1_000 },
            {
              pricing,
              promptTokens: 100,
              completionTokens: 500,
              minCompletionTokens: 10,
            },
          ),
        ),
      );
      // 301 completion tokens would cost 100 + 903; 300 cost exactly 100 + 900.
      expect(ok.reservation.completionTokens).toBe(300);
      expect(ok.reservation.costMicros).toBe(1_000);
      expect(ok.state.dailyCost!.remainingMicros).toBe(0);
    });

    it('never multiplies a huge daily limit: the whole estimate fits as asked', async () => {
      const { store } = h();
      const ok = allowed(
        await store.reserve(
          request(
            subjectName(),
            { dailyCostMicros: 9_000_000_000_000_000 },
            { minCompletionTokens: 1 },
          ),
        ),
      );
      expect(ok.reservation.completionTokens).toBe(100);
    });

    it('takes the tightest of tokens and money together', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { tokens: { capacity: 1_000, perMinute: 1 }, dailyCostMicros: 500 };
      // Tokens would allow 900 completion tokens, money (500 − 100) / 2 = 200.
      const ok = allowed(
        await store.reserve(
          request(subject, limits, {
            promptTokens: 100,
            completionTokens: 900,
            minCompletionTokens: 1,
          }),
        ),
      );
      expect(ok.reservation.completionTokens).toBe(200);
      expect(ok.state.tokens!.remaining).toBe(700);
      expect(ok.state.dailyCost!.remainingMicros).toBe(0);
    });
  });

  describe('exceeds_capacity', () => {
    it('refuses, with no retry time, what no amount of waiting lets through', async () => {
      const { store } = h();
      const cases = [
        [{ requests: { capacity: 0, perMinute: 10 } }, {}, 'requests'],
        [{ tokens: { capacity: 150, perMinute: 1_000 } }, {}, 'tokens'],
        [{ tokens: { capacity: 150, perMinute: 1_000 } }, { minCompletionTokens: 60 }, 'tokens'],
        [{ concurrent: 0 }, {}, 'concurrent'],
        [{ dailyCostMicros: 299 }, {}, 'daily_cost'],
        [{ modelTokens: { capacity: 199, perMinute: 1_000 } }, {}, 'model_tokens'],
        [
          { tokens: { capacity: 1_000, perMinute: 0 }, requests: { capacity: 5, perMinute: 1 } },
          {},
          null,
        ],
      ] as const;
      for (const [limits, extra, dimension] of cases) {
        const subject = subjectName();
        if (dimension === null) {
          // A bucket that never refills: once drained, waiting never helps either.
          allowed(
            await store.reserve(
              request(subject, limits, { promptTokens: 900, completionTokens: 0 }),
            ),
          );
        }
        const no = refused(await store.reserve(request(subject, limits, extra)));
        expect(no.reason).toBe('exceeds_capacity');
        expect(no.dimension).toBe(dimension ?? 'tokens');
        expect(no.retryAfterMs).toBeUndefined();
      }
      // prompt + min fits where the whole estimate does not: degraded, not refused.
      const fits = allowed(
        await store.reserve(
          request(
            subjectName(),
            { tokens: { capacity: 150, perMinute: 1 } },
            { minCompletionTokens: 50 },
          ),
        ),
      );
      expect(fits.reservation.completionTokens).toBe(50);
    });
  });

  describe('money', () => {
    it('prices huge requests exactly (products beyond 2^53)', async () => {
      const { store } = h();
      const pricing = { inputPicosPerToken: 999_999_999, outputPicosPerToken: 1_000_000_000 };
      const ok = allowed(
        await store.reserve(
          request(
            subjectName(),
            { dailyCostMicros: 1e15 },
            {
              pricing,
              promptTokens: 9_999_999,
              completionTokens: 10_000_000,
            },
          ),
        ),
      );
      expect(ok.reservation.costMicros).toBe(
        referenceCost(9_999_999, 10_000_000, 999_999_999, 1e9),
      );
      const settled = await store.commit(ok.reservation.reservationId, {
        promptTokens: 9_999_997,
        completionTokens: 3,
      });
      expect(settled.ok && settled.settlement.costMicros).toBe(
        referenceCost(9_999_997, 3, 999_999_999, 1e9),
      );
    });
  });
}
