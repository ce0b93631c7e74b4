import { describe, expect, it } from 'vitest';
import {
  SubjectKeys,
  keysFromScanned,
  newRef,
  parseReservationId,
  reservationId,
  scanPattern,
  subjectTag,
} from './budget.keys.js';

describe('reservation ids', () => {
  it('carry the subject, so commit finds its keys without a lookup', () => {
    for (const subject of ['user_123', 'a.b', '{x}', 'ünï 日本', ' ']) {
      const ref = newRef();
      expect(parseReservationId(reservationId(subject, ref))).toEqual({ subject, ref });
    }
  });

  it('refuse anything this engine never issued', () => {
    const id = reservationId('user', newRef());
    for (const bad of [
      '',
      '.',
      'abc',
      `${id}x`,
      `x${id.slice(id.indexOf('.'))}x`,
      'dXNlcg==.AAAAAAAAAAAAAAAAAAAAAA',
      `/${id}`,
    ]) {
      expect(parseReservationId(bad)).toBeNull();
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

  it('finds subjects back from scanned keys and ignores look-alikes', () => {
    const keys = SubjectKeys.of('run*1:', 'u');
    expect(scanPattern('run*1:', 'lease')).toBe('run\\*1:{*}:lease');
    expect(keysFromScanned('run*1:', keys.leases, 'lease')?.base).toBe(keys.base);
    expect(keysFromScanned('run*1:', `${keys.base}:r:x}:lease`, 'lease')).toBeNull();
    expect(keysFromScanned('run*1:', keys.pending, 'lease')).toBeNull();
  });
});
