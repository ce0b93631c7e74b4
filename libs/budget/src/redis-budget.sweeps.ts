import type { Redis } from 'ioredis';
import { SETTLED_RETENTION_MS, UNCONFIRMED_RETENTION_MS } from './budget.store.js';
import { type RedisClient, runScript } from './budget.scripts.js';
import { SubjectKeys, keysFromScanned, parseReservationId, scanPattern } from './budget.keys.js';
import type { ExpiryPolicy, Settlement } from './budget.types.js';
import { asReply, reservationOfRecord, settlementOf } from './redis-budget.replies.js';

/** Subjects visited concurrently by a sweep. */
const VISIT_GROUP = 32;

/**
 * The background half of the Redis store: expiry, and the ledger handoff. Due reservations and
 * unconfirmed settlements are found by SCANning every master for the per-subject `:lease` and
 * `:pend` zsets (idle subjects' keys expire, so the keyspace stays that of active subjects);
 * each subject is then settled by one script on its own slot.
 */
export class RedisSweeps {
  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly offset: () => number,
  ) {}

  async expireDue(policy: ExpiryPolicy, max: number): Promise<Settlement[]> {
    const settled: Settlement[] = [];
    // Subjects are visited concurrently: each claims its share of `max` before its script runs.
    let room = max;
    // One TIME per node per sweep: the script re-checks each expiry against its own clock.
    const nowOf = new Map<Redis, Promise<number>>();
    await this.eachSubject('lease', async (keys, node) => {
      if (room <= 0) {
        return false;
      }
      const now = nowOf.get(node) ?? this.nodeNow(node);
      nowOf.set(node, now);
      const due = await this.client.zrangebyscore(keys.leases, '-inf', await now, 'LIMIT', 0, room);
      const refs = due.slice(0, Math.max(0, room));
      room -= refs.length;
      if (refs.length > 0) {
        const reply = asReply(
          await runScript(
            this.client,
            'expire',
            [
              keys.buckets,
              keys.state,
              keys.leases,
              keys.pending,
              ...refs.map((ref) => keys.record(ref)),
            ],
            [this.offset(), policy, UNCONFIRMED_RETENTION_MS, ...refs],
          ),
        );
        settled.push(...reply.map((entry) => settlementOf(asReply(entry))));
      }
      return room > 0;
    });
    return settled;
  }

  async pendingLedger(olderThanMs: number, max: number): Promise<Settlement[]> {
    const found: Settlement[] = [];
    const seen = new Set<string>();
    await this.eachSubject('pend', async (keys) => {
      if (found.length >= max) {
        return false;
      }
      const refs = asReply(
        await runScript(
          this.client,
          'pending',
          [keys.pending],
          [this.offset(), olderThanMs, max - found.length],
        ),
      ).map(String);
      const records = await Promise.all(refs.map((ref) => this.client.hgetall(keys.record(ref))));
      const orphans: string[] = [];
      refs.forEach((ref, i) => {
        const settlement = reservationOfRecord(ref, records[i]!)?.settlement;
        if (settlement) {
          // SCAN may return a key twice; a settlement is offered once per call.
          // Visits run concurrently: past `max`, the rest waits for the next pass.
          if (!seen.has(settlement.reservationId) && found.length < max) {
            seen.add(settlement.reservationId);
            found.push(settlement);
          }
        } else {
          orphans.push(ref);
        }
      });
      if (orphans.length > 0) {
        // The record is gone (retention passed): there is nothing left to re-append.
        await this.client.zrem(keys.pending, ...orphans);
      }
      return found.length < max;
    });
    return found;
  }

  async confirmLedgered(settlements: Settlement[]): Promise<void> {
    const bySubject = new Map<string, string[]>();
    for (const settlement of settlements) {
      const parsed = parseReservationId(settlement.reservationId);
      if (parsed) {
        bySubject.set(parsed.subject, [...(bySubject.get(parsed.subject) ?? []), parsed.ref]);
      }
    }
    await Promise.all(
      [...bySubject].map(([subject, refs]) => {
        const keys = SubjectKeys.of(this.keyPrefix, subject);
        return runScript(
          this.client,
          'confirm',
          [keys.pending, ...refs.map((ref) => keys.record(ref))],
          [this.offset(), SETTLED_RETENTION_MS, ...refs],
        );
      }),
    );
  }

  /** Every master (one node, or each master of a Cluster): SCANs are per node. */
  private masters(): Redis[] {
    return 'nodes' in this.client && typeof this.client.nodes === 'function'
      ? this.client.nodes('master')
      : [this.client as Redis];
  }

  private async nodeNow(node: Redis): Promise<number> {
    const [seconds, micros] = await node.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + this.offset();
  }

  /** Calls `visit` for each subject holding a key of this kind, until it answers false. */
  private async eachSubject(
    suffix: 'lease' | 'pend',
    visit: (keys: SubjectKeys, node: Redis) => Promise<boolean>,
  ): Promise<void> {
    const pattern = scanPattern(this.keyPrefix, suffix);
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        // Subjects are visited a few dozen at a time: one pipelined burst per group instead of a
        // round trip per subject (a sweep must stay well under 10 s), yet small enough groups
        // that handling their replies never holds the event loop for long.
        const visits: boolean[] = [];
        for (let i = 0; i < found.length && !visits.includes(false); i += VISIT_GROUP) {
          visits.push(
            ...(await Promise.all(
              found.slice(i, i + VISIT_GROUP).map((key) => {
                const keys = keysFromScanned(this.keyPrefix, key, suffix);
                return keys ? visit(keys, node) : true;
              }),
            )),
          );
        }
        if (visits.includes(false)) {
          return;
        }
      } while (cursor !== '0');
    }
  }
}
