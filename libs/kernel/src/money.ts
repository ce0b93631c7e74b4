/**
 * Exact money conversions. Code holds money as integer micro-dollars and prices as integer
 * pico-dollars per token; Postgres holds `numeric`. Decimal text is parsed digit by digit (never
 * through a float), so every value a `numeric` with ≤ 6 fractional digits can hold round-trips.
 */

const MICROS_PER_USD = 1_000_000n;
const SCALE = 6;

/** Integer micro-dollars → decimal USD text with six fractional digits, e.g. 12345 → "0.012345". */
export function microsToUsd(micros: number): string {
  if (!Number.isSafeInteger(micros)) {
    throw new RangeError(`micro-dollars must be a safe integer, got ${micros}`);
  }
  const sign = micros < 0 ? '-' : '';
  const abs = BigInt(Math.abs(micros));
  const whole = abs / MICROS_PER_USD;
  const fraction = (abs % MICROS_PER_USD).toString().padStart(SCALE, '0');
  return `${sign}${whole}.${fraction}`;
}

/** Decimal USD text (as Postgres prints `numeric`) → integer micro-dollars, exactly. */
export function usdToMicros(text: string): number {
  return parseScaled(text, 'USD amount');
}

/**
 * USD per million tokens → integer pico-dollars per token. Both are the price scaled by 1e6
 * (1 USD/Mtok = 1e-6 USD/token = 1e6 pUSD/token), so this is exact for ≤ 6 decimals.
 */
export function usdPerMtokToPicosPerToken(text: string): number {
  return parseScaled(text, 'price per million tokens');
}

/** Parses decimal text scaled by 1e6; refuses anything that would need rounding. */
function parseScaled(text: string, what: string): number {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (match === null || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new RangeError(`${what} is not a decimal number: ${JSON.stringify(text)}`);
  }
  const [, sign, whole, fraction = ''] = match;
  // Postgres may print trailing zeros beyond the sixth digit (e.g. after division); those are exact.
  if (/[1-9]/.test(fraction.slice(SCALE))) {
    throw new RangeError(`${what} has more than ${SCALE} decimal places: ${text}`);
  }
  const scaled =
    BigInt(whole === '' ? '0' : whole) * MICROS_PER_USD +
    BigInt(fraction.slice(0, SCALE).padEnd(SCALE, '0'));
  if (scaled > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} is too large to hold exactly: ${text}`);
  }
  const value = Number(scaled);
  return sign === '-' && value !== 0 ? -value : value;
}
