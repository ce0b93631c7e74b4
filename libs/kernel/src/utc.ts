/** UTC calendar arithmetic: the day and month windows that budgets and the ledger share. */

export const DAY_MS = 86_400_000;

/** Days since the epoch, UTC. */
export function epochDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The instant of the next 00:00 UTC after `ms`. */
export function nextUtcMidnight(ms: number): number {
  return (epochDay(ms) + 1) * DAY_MS;
}

/** `YYYY-MM-DD` of an epoch day. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC calendar day of an instant, as `YYYY-MM-DD` (Postgres `date` text). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Months since the epoch, UTC (January 1970 is 0). */
export function epochMonth(ms: number): number {
  const date = new Date(ms);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

/** `YYYY-MM` of an epoch month. */
export function isoMonth(month: number): string {
  const year = 1970 + Math.floor(month / 12);
  return `${year}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** The instant of 00:00 UTC on the 1st of the month after `ms`. */
export function nextUtcMonthStart(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The instant of 00:00 UTC on the 1st of the month that holds `ms`. */
export function utcMonthStart(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}
