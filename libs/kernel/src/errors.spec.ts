import { describe, expect, it } from 'vitest';
import { DomainError } from './domain.error.js';
import {
  DOMAIN_ERRORS,
  ReservationConflictError,
  StoreUnavailableError,
  UnknownModelError,
} from './errors.js';

describe('error classes', () => {
  it('each has its own stable code', () => {
    const codes = DOMAIN_ERRORS.map((error) => error.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(/^[a-z_]+$/);
    }
  });

  it('an instance answers the code and status its class declares, and the SPEC body', () => {
    const error = new ReservationConflictError('r1', 'refunded');
    expect(error).toBeInstanceOf(DomainError);
    expect(error.name).toBe('ReservationConflictError');
    expect([error.code, error.status]).toEqual([
      ReservationConflictError.code,
      ReservationConflictError.status,
    ]);
    expect(error.toBody()).toEqual({
      error: 'reservation_conflict',
      message: 'Reservation r1 is already refunded; it cannot be settled another way.',
      status: 'refunded',
    });
    expect(new UnknownModelError('gpt-9').toBody()).toEqual({
      error: 'unknown_model',
      message: 'Unknown model "gpt-9": it has no row in the models catalogue.',
      model: 'gpt-9',
    });
    expect(new StoreUnavailableError('settling').status).toBe(503);
  });
});
