import { createHmac } from 'node:crypto';
import type { ClaimedAlert } from '#ledger';

/** The header that carries the signature (SPEC "Budget alerts"). */
export const SIGNATURE_HEADER = 'X-Token-Budget-Signature';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes with the secret>`. */
export function signAlertBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The JSON the webhook receives; receivers deduplicate by alert_id (delivery is at least once). */
export function alertBody(alert: ClaimedAlert): string {
  return JSON.stringify({
    alert_id: alert.id,
    subject: alert.subject,
    tier: alert.tier,
    window: alert.window,
    period: alert.period,
    threshold_percent: alert.thresholdPercent,
    limit_usd: alert.limitUsd,
    spent_usd: alert.spentUsd,
    raised_at: alert.raisedAt.toISOString(),
  });
}

/**
 * One POST; resolves to null on a 2xx, else to why not (status, timeout, refused connection).
 * Never rejects. The answer's body is not read: only its status counts.
 */
export async function postAlert(
  url: string,
  body: string,
  signature: string,
  signal: AbortSignal,
): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'token-budget-alerts',
        [SIGNATURE_HEADER]: signature,
      },
      body,
      // A redirect is not a delivery: it is retried like any other non-2xx.
      redirect: 'manual',
      signal,
    });
    await response.body?.cancel().catch(() => undefined);
    return response.ok ? null : `HTTP ${response.status}`;
  } catch (error) {
    return describeFetchError(error);
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') {
      return 'timed out';
    }
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${detail}`;
  }
  return String(error);
}
