import { afterEach, beforeEach } from 'vitest';
import {
  type BudgetStore,
  DailyCostSource,
  type Limits,
  type ReserveRequest,
  type ReserveResult,
  type SettleResult,
} from '#budget';

/** What the conformance suite needs from one store implementation. */
export interface StoreHarness {
  /** The store under test (replaced by restart()). */
  readonly store: BudgetStore;
  readonly source: FakeDailyCostSource;
  /** Moves the clock of every store of this harness. */
  advance(ms: number): void;
  /** Every live counter lost: Redis keys deleted (a flush), or the process restarted. */
  restart(): Promise<void>;
  /** Stores over the same data that act at the same time (other instances, other connections). */
  peers(count: number): Promise<BudgetStore[]>;
  close(): Promise<void>;
}

export type HarnessFactory = () => Promise<StoreHarness>;

/**
 * The ledger as the stores see it: a value per (subject, day) and per (subject, month), and every
 * question asked.
 */
export class FakeDailyCostSource extends DailyCostSource {
  private readonly values = new Map<string, number>();
  readonly asked: string[] = [];

  set(subject: string, day: string, micros: number): void {
    this.values.set(`${subject}|${day}`, micros);
  }

  committedCostMicros(subject: string, day: string): Promise<number> {
    this.asked.push(`${subject}|${day}`);
    return Promise.resolve(this.values.get(`${subject}|${day}`) ?? 0);
  }

  /** `period` is `YYYY-MM` here: set(subject, '2026-11', micros) gives the month's value. */
  committedMonthCostMicros(subject: string, month: string): Promise<number> {
    this.asked.push(`${subject}|${month}`);
    return Promise.resolve(this.values.get(`${subject}|${month}`) ?? 0);
  }
}

export const UNLIMITED: Limits = {
  requests: null,
  tokens: null,
  concurrent: null,
  dailyCostMicros: null,
  modelRequests: null,
  modelTokens: null,
};

/** Every dimension limited, small enough to exhaust in a test (settlement and expiry cases). */
export const EVERY: Limits = {
  ...UNLIMITED,
  requests: { capacity: 10, perMinute: 1 },
  tokens: { capacity: 1_000, perMinute: 1 },
  concurrent: 5,
  dailyCostMicros: 10_000,
};

/** 1 micro-dollar per prompt token, 2 per completion token. */
export const PRICING = { inputPicosPerToken: 1_000_000, outputPicosPerToken: 2_000_000 };

let counter = 0;

/** A subject no other test uses (keys are per harness anyway; this keeps failures readable). */
export function subjectName(label = 'user'): string {
  counter += 1;
  return `${label}-${counter}`;
}

export function request(
  subject: string,
  limits: Partial<Limits>,
  overrides: Partial<ReserveRequest> = {},
): ReserveRequest {
  return {
    subject,
    tier: 'free',
    model: 'gpt-4o',
    limits: { ...UNLIMITED, ...limits },
    pricing: PRICING,
    promptTokens: 100,
    completionTokens: 100,
    ttlSeconds: 600,
    ...overrides,
  };
}

export function allowed(result: ReserveResult): Extract<ReserveResult, { allowed: true }> {
  if (!result.allowed) {
    throw new Error(`expected the reserve to be allowed, got ${JSON.stringify(result)}`);
  }
  return result;
}

export function refused(result: ReserveResult): Extract<ReserveResult, { allowed: false }> {
  if (result.allowed) {
    throw new Error(`expected the reserve to be refused, got ${JSON.stringify(result)}`);
  }
  return result;
}

export function settled(result: SettleResult): Extract<SettleResult, { ok: true }> {
  if (!result.ok) {
    throw new Error(`expected the settlement to succeed, got ${JSON.stringify(result)}`);
  }
  return result;
}

export async function reserveId(store: BudgetStore, req: ReserveRequest): Promise<string> {
  return allowed(await store.reserve(req)).reservation.reservationId;
}

export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A fresh harness around every test of the calling describe block. */
export function useHarness(make: HarnessFactory): () => StoreHarness {
  let current: StoreHarness | undefined;
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => current!;
}
