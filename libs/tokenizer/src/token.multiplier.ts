import { InvalidTokenMultiplierError } from '#kernel';

/**
 * tokens × multiplier, rounded up. The multiplier comes from a Postgres numeric such as 1.15;
 * multiplying binary floats would give 114.99999999999999 or 115.00000000000001 for 100 × 1.15
 * and round the wrong way, so it is taken as whole millionths and the product stays an integer.
 */
export function applyTokenMultiplier(tokens: number, multiplier: number, model: string): number {
  const factor = Number(multiplier);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new InvalidTokenMultiplierError(model, multiplier);
  }
  if (factor === 1) {
    return tokens;
  }
  const millionths = Math.round(factor * 1_000_000);
  return Math.ceil((tokens * millionths) / 1_000_000);
}
