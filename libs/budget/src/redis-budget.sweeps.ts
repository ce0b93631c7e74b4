import { SETTLED_RETENTION_MS, UNCONFIRMED_RETENTION_MS } from './budget.store.js';
import { type RedisClient, runScript } from './budget.scripts.js';
import { GroupKeys, SubjectKeys, parseReservationId } from './budget.keys.js';
import type { ExpiryPolicy, Settlement } from './budget.types.js';
import { asReply, reservationOfRecord, settlementOf } from './redis-budget.replies.js';

/**
 * Index zsets read at once. Each read is one small command on its group's slot; the client's
 * auto-pipelining sends a batch as one write per node, so a pass over every group is a handful
 * of round trips whatever the keyspace holds.
 */
const GROUP_BATCH = 256;
/** Subjects visited concurrently by a sweep. */
const VISIT_GROUP = 32;
/** Subjects confirmed by one script on one Redis (not Cluster): a bound on its run time. */
const CONFIRM_SUBJECTS = 64;

/**
 * The background half of the Redis store: expiry, and the ledger handoff. Due reservations and
 * unconfirmed settlements are found through the groups' index zsets (budget.keys.ts), which the
 * scripts keep in step: a pass costs O(groups + due subjects), not O(keys). Each subject found is
 * then settled by one script on its own slot, which claims each reservation atomically.
 */
export class RedisSweeps {
  private readonly groups: GroupKeys[];

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly offset: () => number,
  ) {
    this.groups = GroupKeys.all(keyPrefix);
  }

  async expireDue(policy: ExpiryPolicy, max: number): Promise<Settlement[]> {
    const settled: Settlement[] = [];
    // One clock per sweep: the script re-checks each expiry against its own.
    const now = await this.now();
    let room = max;
    await this.eachIndexed(
      'due',
      now,
      () => room,
      async (subjects) => {
        // One pipelined burst finds the subjects' due leases; records go to the script in KEYS.
        const limit = room;
        const due = await Promise.all(
          subjects.map((keys) =>
            this.client.zrangebyscore(keys.leases, '-inf', now, 'LIMIT', 0, limit),
          ),
        );
        const work: [SubjectKeys, string[]][] = [];
        subjects.forEach((keys, i) => {
          const refs = due[i]!.slice(0, Math.max(0, room));
          room -= refs.length;
          // An entry with nothing due (its leases settled or vanished since) still runs the
          // script, which then only repairs the entry; one left out for lack of room waits.
          if (refs.length > 0 || due[i]!.length === 0) {
            work.push([keys, refs]);
          }
        });
        const replies = await Promise.all(
          work.map(([keys, refs]) => this.expire(keys, refs, policy)),
        );
        for (const reply of replies) {
          settled.push(...asReply(reply).map((entry) => settlementOf(asReply(entry))));
        }
      },
    );
    return settled;
  }

  async pendingLedger(olderThanMs: number, max: number): Promise<Settlement[]> {
    const found: Settlement[] = [];
    const visit = async (keys: SubjectKeys): Promise<void> => {
      const refs = asReply(
        await runScript(
          this.client,
          'pending',
          [keys.pending, keys.group.unconfirmed],
          [this.offset(), olderThanMs, max - found.length, keys.tag],
        ),
      ).map(String);
      const records = await Promise.all(refs.map((ref) => this.client.hgetall(keys.record(ref))));
      const orphans: string[] = [];
      refs.forEach((ref, i) => {
        const settlement = reservationOfRecord(ref, records[i]!)?.settlement;
        if (!settlement) {
          orphans.push(ref);
        } else if (found.length < max) {
          // Visits run concurrently: past `max`, the rest waits for the next pass.
          found.push(settlement);
        }
      });
      if (orphans.length > 0) {
        // The record is gone (retention passed): nothing is left to re-append.
        await this.confirm([[keys, orphans]]);
      }
    };
    // Judged by the index with this clock (one that ages during the sweep is found next pass);
    // the pending script judges each settlement by its own.
    const upTo = (await this.now()) - olderThanMs;
    await this.eachIndexed(
      'unconfirmed',
      upTo,
      () => max - found.length,
      async (subjects) => {
        await Promise.all(subjects.map(visit));
      },
    );
    return found;
  }

  /**
   * One confirm script per subject on Cluster (its keys share the subject's slot only); on one
   * Redis, one script for up to CONFIRM_SUBJECTS subjects at a time: a group commit's batch of
   * settlements, one per subject, costs one call instead of one per row.
   */
  async confirmLedgered(settlements: Settlement[]): Promise<void> {
    const bySubject = new Map<string, string[]>();
    for (const settlement of settlements) {
      const parsed = parseReservationId(settlement.reservationId);
      if (parsed) {
        const refs = bySubject.get(parsed.subject);
        if (refs === undefined) {
          bySubject.set(parsed.subject, [parsed.ref]);
        } else {
          refs.push(parsed.ref);
        }
      }
    }
    const subjects = [...bySubject].map(
      ([subject, refs]) => [SubjectKeys.of(this.keyPrefix, subject), refs] as const,
    );
    const perCall = this.client.isCluster ? 1 : CONFIRM_SUBJECTS;
    const calls: Promise<unknown>[] = [];
    for (let at = 0; at < subjects.length; at += perCall) {
      calls.push(this.confirm(subjects.slice(at, at + perCall)));
    }
    await Promise.all(calls);
  }

  private expire(keys: SubjectKeys, refs: string[], policy: ExpiryPolicy): Promise<unknown> {
    return runScript(
      this.client,
      'expire',
      [...keys.settlementKeys(), ...refs.map((ref) => keys.record(ref))],
      [this.offset(), policy, UNCONFIRMED_RETENTION_MS, keys.tag, ...refs],
    );
  }

  /** Forgets these refs as pending; the script keeps the subject's index entry in step. */
  /** confirm.lua for each subject's refs, in one call: all the keys must be on one node. */
  private confirm(
    subjects: readonly (readonly [SubjectKeys, readonly string[]])[],
  ): Promise<unknown> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.offset(), SETTLED_RETENTION_MS];
    for (const [subject, refs] of subjects) {
      keys.push(subject.pending, subject.group.unconfirmed);
      args.push(subject.tag, refs.length);
      for (const ref of refs) {
        keys.push(subject.record(ref));
        args.push(ref);
      }
    }
    return runScript(this.client, 'confirm', keys, args);
  }

  /** Redis time (of any node: the scripts re-check against their own), with the test offset. */
  private async now(): Promise<number> {
    const [seconds, micros] = await this.client.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + this.offset();
  }

  /**
   * Calls `visit` with the subjects whose entry in this index scores at most `upTo`, a few
   * dozen at a time, until `room()` is used up. Each group is asked for at most `room()`
   * subjects: every subject visited can use some room.
   */
  private async eachIndexed(
    index: 'due' | 'unconfirmed',
    upTo: number,
    room: () => number,
    visit: (subjects: SubjectKeys[]) => Promise<void>,
  ): Promise<void> {
    for (let first = 0; first < this.groups.length && room() > 0; first += GROUP_BATCH) {
      const groups = this.groups.slice(first, first + GROUP_BATCH);
      const limit = room();
      const tags = await Promise.all(
        groups.map((group) =>
          this.client.zrangebyscore(group[index], '-inf', upTo, 'LIMIT', 0, limit),
        ),
      );
      const subjects = tags.flatMap((found, i) => found.map((tag) => groups[i]!.subject(tag)));
      for (let i = 0; i < subjects.length && room() > 0; i += VISIT_GROUP) {
        await visit(subjects.slice(i, i + VISIT_GROUP));
      }
    }
  }
}
