import type { Redis } from 'ioredis';
import { SETTLED_RETENTION_MS, UNCONFIRMED_RETENTION_MS } from './budget.store.js';
import { type RedisClient, runScript } from './budget.scripts.js';
import { SubjectKeys, keysFromScanned, parseReservationId, scanPattern } from './budget.keys.js';
import type { ExpiryPolicy, Settlement } from './budget.types.js';
import { asReply, reservationOfRecord, settlementOf } from './redis-budget.replies.js';

/** Subjects visited concurrently by a sweep. */
const VISIT_GROUP = 32;
/**
 * Keys one SCAN call walks. Redis runs nothing else meanwhile, and the keyspace is mostly
 * reservation records: 1,000 held Redis ~1.5 ms per call (a check arriving then waited that
 * long); 250 keeps each call a few hundred µs for a few more round trips per pass.
 */
const SCAN_COUNT = 250;

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
    let room = max;
    // One TIME per node per sweep: the script re-checks each expiry against its own clock.
    const nowOf = new Map<Redis, number>();
    await this.eachPage('lease', async (page, node) => {
      if (room <= 0) {
        return false;
      }
      const now = nowOf.get(node) ?? (await this.nodeNow(node));
      nowOf.set(node, now);
      // One pipelined round trip finds the whole page's due leases (most subjects have none);
      // only subjects with some run the expire script, which claims each one atomically.
      const limit = room;
      const due = await this.perKey(node, page, (keys) => [
        'zrangebyscore',
        keys.leases,
        '-inf',
        now,
        'LIMIT',
        0,
        limit,
      ]);
      const work: [SubjectKeys, string[]][] = [];
      page.forEach((keys, i) => {
        const refs = (due[i] as string[]).slice(0, Math.max(0, room));
        room -= refs.length;
        if (refs.length > 0) {
          work.push([keys, refs]);
        }
      });
      // A few dozen scripts at a time: each its own slot, pipelined by the client.
      for (let i = 0; i < work.length; i += VISIT_GROUP) {
        const replies = await Promise.all(
          work
            .slice(i, i + VISIT_GROUP)
            .map(([keys, refs]) =>
              runScript(
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
            ),
        );
        for (const reply of replies) {
          settled.push(...asReply(reply).map((entry) => settlementOf(asReply(entry))));
        }
      }
      return room > 0;
    });
    return settled;
  }

  async pendingLedger(olderThanMs: number, max: number): Promise<Settlement[]> {
    const found: Settlement[] = [];
    const seen = new Set<string>();
    const visit = async (keys: SubjectKeys): Promise<boolean> => {
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
    };
    const nowOf = new Map<Redis, number>();
    await this.eachPage('pend', async (page, node) => {
      if (found.length >= max) {
        return false;
      }
      const now = nowOf.get(node) ?? (await this.nodeNow(node));
      nowOf.set(node, now);
      // One pipelined round trip skips the subjects with nothing old enough yet (by this node's
      // clock at the start of the sweep: one that ages during it is found next pass); the rest
      // run the pending script, which judges by its own clock.
      const oldest = await this.perKey(node, page, (keys) => [
        'zrangebyscore',
        keys.pending,
        '-inf',
        now - olderThanMs,
        'LIMIT',
        0,
        1,
      ]);
      const waiting = page.filter((_, i) => (oldest[i] as string[]).length > 0);
      // Subjects are visited a few dozen at a time: one pipelined burst per group, yet small
      // enough groups that handling their replies never holds the event loop for long.
      for (let i = 0; i < waiting.length; i += VISIT_GROUP) {
        const visits = await Promise.all(waiting.slice(i, i + VISIT_GROUP).map(visit));
        if (visits.includes(false)) {
          return false;
        }
      }
      return true;
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

  /**
   * One plain single-key command per subject of a page, pipelined to the node its SCAN came
   * from: one round trip for the page. A key whose slot moved since (a resharding Cluster)
   * answers MOVED there, and is asked again through the client, which follows the redirection.
   */
  private async perKey(
    node: Redis,
    page: SubjectKeys[],
    command: (keys: SubjectKeys) => [string, ...(string | number)[]],
  ): Promise<unknown[]> {
    const pipeline = node.pipeline(page.map((keys) => command(keys)));
    const results = (await pipeline.exec()) ?? [];
    return Promise.all(
      page.map(async (keys, i) => {
        const [error, value] = results[i] ?? [new Error('no reply')];
        if (!error) {
          return value;
        }
        const [name, ...args] = command(keys);
        return this.client.call(name, ...args);
      }),
    );
  }

  /** Calls `visit` with each SCAN page's subjects holding a key of this kind, until false. */
  private async eachPage(
    suffix: 'lease' | 'pend',
    visit: (page: SubjectKeys[], node: Redis) => Promise<boolean>,
  ): Promise<void> {
    const pattern = scanPattern(this.keyPrefix, suffix);
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        cursor = next;
        const page = found
          .map((key) => keysFromScanned(this.keyPrefix, key, suffix))
          .filter((keys): keys is SubjectKeys => keys !== null);
        if (page.length > 0 && !(await visit(page, node))) {
          return;
        }
      } while (cursor !== '0');
    }
  }
}
