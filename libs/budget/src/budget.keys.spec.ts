import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  GROUPS,
  GroupKeys,
  SubjectKeys,
  newRef,
  DEFAULT_RESERVATION_SIGNING_KEY,
  parseReservationId,
  reservationClaims,
  reservationId,
  setReservationSigningKey,
  sign,
  subjectGroup,
  subjectTag,
} from './budget.keys.js';

const claims = (subject: string, ref = newRef()) => ({
  subject,
  ref,
  tier: 'free',
  model: 'gpt-4o',
  promptTokens: 1000,
  completionTokens: 200,
  pricing: {
    inputPicosPerToken: 2_500_000,
    outputPicosPerToken: 10_000_000,
    cachedInputPicosPerToken: 1_250_000,
  },
  reservedAtMs: 1_764_000_000_000,
  expiresAtMs: 1_764_000_600_000,
});

describe('reservation ids', () => {
  it('carry the subject, so commit finds its keys without a lookup', () => {
    for (const subject of ['user_123', 'a.b', '{x}', 'ünï 日本', ' ']) {
      const ref = newRef();
      expect(parseReservationId(reservationId(claims(subject, ref)))).toEqual({ subject, ref });
    }
  });

  it('carry, signed, everything settling needs', () => {
    const c = claims('user');
    expect(reservationClaims(reservationId(c))).toEqual(c);
  });

  it('refuse anything this engine never issued, or issued and then altered', () => {
    const id = reservationId(claims('user'));
    const [subject, body, sig, ref] = id.split('.') as [string, string, string, string];
    const other = reservationId({ ...claims('user'), promptTokens: 1 }).split('.')[1]!;
    for (const bad of [
      '',
      '.',
      'abc',
      `${id}x`,
      `x${id}`,
      'dXNlcg==.AAAAAAAAAAAAAAAAAAAAAA',
      `dXNlcg.${ref}`,
      `/${id}`,
      `${subject}.${other}.${sig}.${ref}`,
      `${Buffer.from('admin').toString('base64url')}.${body}.${sig}.${ref}`,
      `${subject}.${body}.${sig}.${newRef()}`,
      `${subject}.${body}.${'A'.repeat(sig.length)}.${ref}`,
      `${subject}.${body}.${sig.slice(0, -1)}${sig.endsWith('B') ? 'C' : 'B'}.${ref}`,
    ]) {
      expect(parseReservationId(bad)).toBeNull();
    }
  });

  it('are signed with RESERVATION_SIGNING_KEY: another key refuses them', () => {
    const id = reservationId(claims('user'));
    setReservationSigningKey('another-key-of-16-chars');
    try {
      expect(parseReservationId(id)).toBeNull();
    } finally {
      setReservationSigningKey(DEFAULT_RESERVATION_SIGNING_KEY);
    }
  });

  it('are signed with HMAC-SHA256 exactly as createHmac computes it, for keys of any length', () => {
    const keys = ['k', 'a'.repeat(64), 'b'.repeat(65), 'clé-ü'.repeat(30), ''];
    const bodies = ['', 'dXNlcg.WyJmcmVlIl0.AAAAAAAAAAAAAAAAAAAAAA', 'é'.repeat(200)];
    try {
      for (const key of keys) {
        setReservationSigningKey(key);
        for (const body of bodies) {
          const expected = createHmac('sha256', key).update(body).digest().subarray(0, 16);
          expect(sign(body).equals(expected), `key ${key.length}, body ${body.length}`).toBe(true);
        }
      }
    } finally {
      setReservationSigningKey(DEFAULT_RESERVATION_SIGNING_KEY);
    }
  });
});

describe('key layout', () => {
  it('puts every key of a subject in one hash tag, even for subjects with braces', () => {
    for (const subject of ['plain', '{a}b', '}x', '~tilde']) {
      const keys = SubjectKeys.of('p:', subject);
      const tag = /\{([^}]*)\}/.exec(keys.buckets)![1];
      expect(tag).not.toBe('');
      for (const key of [
        keys.state,
        keys.leases,
        keys.pending,
        keys.record(newRef()),
        keys.idempotency('k'),
      ]) {
        expect(/\{([^}]*)\}/.exec(key)![1]).toBe(tag);
        expect(key.startsWith('p:')).toBe(true);
      }
    }
  });

  it('never gives two subjects the same tag', () => {
    const encodedBrace = `~${Buffer.from('}x').toString('base64url')}`;
    expect(subjectTag('}x')).not.toBe(subjectTag(encodedBrace));
    expect(subjectTag('~a')).not.toBe(subjectTag('a'));
  });

  it("puts a subject's keys in its group's slot, next to the group's index", () => {
    for (const subject of ['plain', '{a}b', 'due', ':due', '', '~tilde']) {
      const keys = SubjectKeys.of('p:', subject);
      const group = new GroupKeys('p:', subjectGroup(subject));
      expect(keys.group).toEqual(group);
      expect(/\{([^}]*)\}/.exec(keys.buckets)![1]).toBe(/\{([^}]*)\}/.exec(group.due)![1]);
      // The index holds tags; a tag gives the subject's keys back.
      expect(group.subject(keys.tag)).toEqual(keys);
      for (const key of [keys.buckets, keys.leases, keys.pending, keys.record(newRef())]) {
        expect([group.due, group.unconfirmed]).not.toContain(key);
      }
    }
  });

  it('spreads subjects over every group, stably', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      seen.add(subjectGroup(`user-${i}`));
    }
    expect(seen.size).toBe(GROUPS);
    expect(subjectGroup('user-1')).toBe(subjectGroup('user-1'));
    expect(GroupKeys.all('p:').map((group) => group.due)).toHaveLength(GROUPS);
  });
});
