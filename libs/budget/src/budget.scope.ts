import type {
  LimitsState,
  ReserveRequest,
  ReserveResult,
  ScopeState,
  SettleResult,
  Usage,
} from './budget.types.js';

/** What a store does on one level of a scope; each call touches that level's keys only. */
export interface ScopeLevels {
  /**
   * Reserves on the request's subject alone. With `ref`, it is an ancestor's share of the
   * subject's reservation `ref`: held and settled like one, but never a ledger row of its own.
   */
  reserveLevel(req: ReserveRequest, ref?: string): Promise<ReserveResult>;
  /**
   * Undoes a held reservation of a level entirely, with no ledger row; its state after. With
   * `idempotencyKey`, the key forgets it too, so a retried check reserves afresh.
   */
  cancelLevel(subject: string, ref: string, idempotencyKey?: string): Promise<LimitsState | null>;
  /** Settles an ancestor's share like the subject's own settlement (idempotent). */
  settleLevel(
    subject: string,
    ref: string,
    status: 'committed' | 'refunded',
    usage: Usage | null,
  ): Promise<void>;
}

/** The ref inside a reservation id (`<subject>.<ref>`). */
export function refOf(reservationId: string): string {
  return reservationId.slice(reservationId.lastIndexOf('.') + 1);
}

/** Degraded grants that differ between levels are re-reserved this often at the smaller one. */
const ATTEMPTS = 3;

/**
 * A check over a scope (SPEC §3): level by level from the subject to its root, one script per
 * level (each level's keys in its own slot), and on a refusal the levels already reserved are
 * cancelled. A level may so be briefly reserved and released, never over its limit: each level's
 * script judges that level's limit against everything reserved there. Without ancestors this is
 * exactly one reserve, one round trip.
 */
export async function reserveScoped(
  levels: ScopeLevels,
  req: ReserveRequest,
): Promise<ReserveResult> {
  let current = req;
  for (let attempt = 0; ; attempt += 1) {
    const own = await levels.reserveLevel(current);
    if (!own.allowed || own.replayed || !req.scope?.length) {
      return own;
    }
    const ref = refOf(own.reservation.reservationId);
    const granted = own.reservation.completionTokens;
    const held: { subject: string; tier: string; state: LimitsState }[] = [];
    let smaller: number | undefined;
    let refusal: Extract<ReserveResult, { allowed: false }> | undefined;
    let refusedAt: { subject: string; tier: string } | undefined;
    try {
      for (const level of req.scope) {
        const answer = await levels.reserveLevel(
          {
            ...current,
            subject: level.subject,
            tier: level.tier,
            limits: level.limits,
            completionTokens: granted,
            minCompletionTokens:
              current.minCompletionTokens === undefined
                ? undefined
                : Math.min(current.minCompletionTokens, granted),
            idempotencyKey: undefined,
            scope: undefined,
          },
          ref,
        );
        if (!answer.allowed) {
          refusal = answer;
          refusedAt = level;
          break;
        }
        held.push({ subject: level.subject, tier: level.tier, state: answer.state });
        if (answer.reservation.completionTokens < granted) {
          // This level can afford less than the levels below it hold: all must hold the same.
          smaller = answer.reservation.completionTokens;
          break;
        }
      }
    } catch (error) {
      // A level that did not answer (a timeout): whoever decides next (the caller's retry, or the
      // fallback store) must not find this attempt's levels still held, nor see them charged at
      // their expiry. The level that failed may have reserved too: cancelled as well.
      const failed = req.scope[held.length]?.subject;
      const undo = [req.subject, ...held.map((level) => level.subject)];
      await cancelLevels(
        levels,
        ref,
        failed === undefined ? undo : [...undo, failed],
        req.idempotencyKey,
      ).catch(() => undefined);
      throw error;
    }
    if (refusal === undefined && smaller === undefined) {
      return { ...own, scope: held };
    }
    // Undo what this attempt reserved.
    const states = await cancelLevels(
      levels,
      ref,
      [req.subject, ...held.map((level) => level.subject)],
      req.idempotencyKey,
    );
    const scope: ScopeState[] = held.map((level, i) => ({
      ...level,
      state: states[i + 1] ?? level.state,
    }));
    if (refusal !== undefined) {
      return {
        ...refusal,
        state: states[0] ?? own.state,
        scopeSubject: refusedAt!.subject,
        scope: [
          ...scope,
          { subject: refusedAt!.subject, tier: refusedAt!.tier, state: refusal.state },
        ],
      };
    }
    if (attempt + 1 >= ATTEMPTS) {
      throw new Error(`The levels of ${req.subject}'s scope kept granting different completions`);
    }
    current = { ...current, completionTokens: smaller!, minCompletionTokens: smaller };
  }
}

/** Attempts at one level's cancel: it is idempotent, and a LATE one (budget.scripts.ts) wrote nothing. */
const CANCEL_ATTEMPTS = 3;

/**
 * Cancels the levels' holds of `ref` (in parallel: independent slots), each retried on a failure.
 * A busy Redis that answers one cancel after its deadline must not turn a decided refusal into
 * a failed check (and a switch to the fallback store) nor leave the hold to be charged at expiry.
 * `subjects[0]` is the checked subject, whose idempotency key forgets the reservation too.
 */
async function cancelLevels(
  levels: ScopeLevels,
  ref: string,
  subjects: readonly string[],
  idempotencyKey: string | undefined,
): Promise<(LimitsState | null)[]> {
  return Promise.all(
    subjects.map(async (subject, i) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await levels.cancelLevel(subject, ref, i === 0 ? idempotencyKey : undefined);
        } catch (error) {
          if (attempt >= CANCEL_ATTEMPTS) {
            throw error;
          }
        }
      }
    }),
  );
}

/** The subject's settlement, then its ancestors' shares (in parallel: independent slots). */
export async function settleScoped(
  levels: ScopeLevels,
  own: SettleResult,
  reservationId: string,
  ancestors: readonly string[],
  status: 'committed' | 'refunded',
  usage: Usage | null,
): Promise<SettleResult> {
  if (!own.ok || ancestors.length === 0) {
    return own;
  }
  const ref = refOf(reservationId);
  // A replay settles them too: the first attempt may have stopped between the levels.
  await Promise.all(
    ancestors.map((subject) => levels.settleLevel(subject, ref, status, own.ok ? usage : null)),
  );
  return own;
}
