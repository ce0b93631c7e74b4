import type { ReserveResult, Settlement } from '#budget';
import type { Estimate } from './estimate.service.js';

/** The fields of a check's log line. */
export function checkLogFields(
  decision: ReserveResult & { estimate: Estimate },
): Record<string, string> {
  const { estimate } = decision;
  const common = { subject: estimate.subject, tier: estimate.tier, model: estimate.model.name };
  if (decision.allowed) {
    return {
      ...common,
      decision: 'allowed',
      reservation_id: decision.reservation.reservationId,
    };
  }
  return {
    ...common,
    decision: decision.reason === 'limited' ? 'refused' : decision.reason,
    dimension: decision.dimension,
  };
}

/** The fields of a commit's or refund's log line. */
export function settlementLogFields(settlement: Settlement): Record<string, string> {
  return {
    subject: settlement.subject,
    tier: settlement.tier,
    model: settlement.model,
    decision: settlement.status,
    reservation_id: settlement.reservationId,
  };
}
