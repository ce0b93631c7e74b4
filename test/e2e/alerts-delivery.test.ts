import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BudgetAlertRepository } from '#ledger';
import { utcDay } from '#kernel';
import { AlertDispatcher } from '../../apps/api/src/alerts/alert.dispatcher.js';
import { openDataSource } from '../ledger/ledger.helpers.js';
import { insertApiClient } from '../support/api-clients.js';
import { type TestApp, eventually, startTestApp, unique } from '../support/app.harness.js';
import { httpClient } from '../support/http.client.js';
import { testEnv } from '../support/test-env.js';

/**
 * Budget alerts delivered to a local webhook receiver, by the real service and by bare
 * dispatchers (several "instances" on their own pools). Other test files share the run's
 * database but start no dispatcher; every assertion here is about this file's own subjects.
 */
const SECRET = 'test-webhook-secret-0123456789';

interface Delivery {
  body: string;
  json: Record<string, unknown>;
  signature: string;
  status: number;
}

/** A webhook: `answer` decides each request's status ('hang' never answers). */
class Receiver {
  readonly requests: Delivery[] = [];
  answer: (json: Record<string, unknown>, nth: number) => number | 'hang' = () => 200;
  private readonly hung = new Set<http.ServerResponse>();
  private server: http.Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const json = JSON.parse(body) as Record<string, unknown>;
        const nth = this.requests.filter((r) => r.json.alert_id === json.alert_id).length + 1;
        const status = this.answer(json, nth);
        const signature = String(request.headers['x-token-budget-signature'] ?? '');
        if (status === 'hang') {
          this.hung.add(response);
          this.requests.push({ body, json, signature, status: 0 });
          return;
        }
        this.requests.push({ body, json, signature, status });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/budget-alerts`;
  }

  get hanging(): number {
    return [...this.hung].filter((response) => !response.destroyed && !response.closed).length;
  }

  /** 2xx answers per alert id, for the given subjects. */
  delivered(subjects: ReadonlySet<string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.requests) {
      if (r.status >= 200 && r.status < 300 && subjects.has(String(r.json.subject))) {
        counts.set(String(r.json.alert_id), (counts.get(String(r.json.alert_id)) ?? 0) + 1);
      }
    }
    return counts;
  }

  async stop(): Promise<void> {
    for (const response of this.hung) {
      response.destroy();
    }
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** What a receiver does: recompute the HMAC over the exact bytes, compare in constant time. */
function signatureValid(delivery: Delivery): boolean {
  const expected = `sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`;
  const given = Buffer.from(delivery.signature);
  return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
}

const receiver = new Receiver();
let db: DataSource;
const apps: TestApp[] = [];

beforeAll(async () => {
  await receiver.start();
  db = await openDataSource(testEnv().databaseUrl);
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  receiver.answer = () => 200;
});

afterAll(async () => {
  await receiver.stop();
  await db.destroy();
});

function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({
    ALERT_WEBHOOK_URL: receiver.url,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_RETRY_BASE_MS: '50',
    ALERT_RETRY_MAX_MS: '200',
    ALERT_POLL_MS: '50',
    ...env,
  }).then((app) => {
    apps.push(app);
    return app;
  });
}

/** A tier of $0.003 a day whose subject pays $0.00075 per gpt-4o-mini call below. */
async function alertingSubject(app: TestApp, thresholds: string): Promise<[string, string]> {
  const tier = unique('alerts');
  const subject = unique('alerted');
  await app.sql(
    `INSERT INTO tiers (name, daily_cost_limit_usd, alert_thresholds) VALUES ($1, 0.003, $2)`,
    [tier, thresholds],
  );
  await app.sql(`INSERT INTO subjects (id, tier) VALUES ($1, $2)`, [subject, tier]);
  // The service sees catalogue edits within 2 s.
  await eventually(async () => {
    const reply = await app.request('GET', `/v1/subjects/${subject}/usage`);
    return reply.status === 200 && reply.body.tier === tier;
  });
  return [tier, subject];
}

/** n checks at once, then their n commits at once: $0.00075 each. */
async function spend(app: TestApp, subject: string, n: number): Promise<void> {
  const usage = { prompt_tokens: 1000, completion_tokens: 1000 };
  const checks = await Promise.all(
    Array.from({ length: n }, () =>
      app.request('POST', '/v1/check', {
        subject,
        model: 'gpt-4o-mini',
        prompt_tokens: 1000,
        max_tokens: 1000,
      }),
    ),
  );
  const commits = await Promise.all(
    checks.map((check) => {
      expect(check.status, JSON.stringify(check.body)).toBe(200);
      return app.request('POST', '/v1/commit', {
        reservation_id: check.body.reservation_id,
        usage,
      });
    }),
  );
  for (const commit of commits) {
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
  }
}

function alertRows(subject: string) {
  return db.query(
    `SELECT id::text AS id, threshold_percent, delivered_at, attempts, last_error
     FROM budget_alerts WHERE subject = $1 ORDER BY threshold_percent`,
    [subject],
  ) as Promise<
    {
      id: string;
      threshold_percent: number;
      delivered_at: Date | null;
      attempts: number;
      last_error: string | null;
    }[]
  >;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

describe('budget alert delivery', () => {
  it('delivers each alert of concurrent commits to a webhook that fails twice first, signed', async () => {
    receiver.answer = (_json, nth) => (nth <= 2 ? 500 : 200);
    const app = await startApp();
    // The admin overview (and the dashboard) says that alerts have somewhere to go.
    const { key } = await insertApiClient(app.sql, 'alerts-admin', 'admin');
    const overview = await httpClient(app.url, key)('GET', '/v1/admin/overview');
    expect(overview.body.modes).toMatchObject({ alert_webhook: 'configured' });
    const [tier, subject] = await alertingSubject(app, '{50,80,100}');
    await spend(app, subject, 4);

    const rows = await alertRows(subject);
    expect(rows.map((row) => row.threshold_percent)).toEqual([50, 80, 100]);
    await eventually(() => receiver.delivered(new Set([subject])).size === 3, 10_000);

    const mine = receiver.requests.filter((r) => r.json.subject === subject);
    // Each alert: two 500s, then one 200; all signed over the exact body.
    expect(mine.map((r) => r.status).sort()).toEqual([200, 200, 200, 500, 500, 500, 500, 500, 500]);
    expect(mine.every(signatureValid)).toBe(true);
    const bodies = new Map(mine.map((r) => [String(r.json.alert_id), r.json]));
    expect([...bodies.keys()].sort()).toEqual(rows.map((row) => row.id).sort());
    for (const row of rows) {
      expect(bodies.get(row.id)).toEqual({
        alert_id: row.id,
        subject,
        tier,
        window: 'day',
        period: utcDay(Date.now()),
        threshold_percent: row.threshold_percent,
        limit_usd: '0.003000',
        // The day's total after the batch that reached it (batches group commits as they come).
        spent_usd: expect.stringMatching(/^0\.00(1500|2250|3000)$/),
        raised_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    }
    for (const [id, body] of bodies) {
      const percent = rows.find((row) => row.id === id)!.threshold_percent;
      // In micro-dollars: spent × 100 ≥ limit × percent.
      expect(Math.round(Number(body.spent_usd) * 1e6) * 100).toBeGreaterThanOrEqual(3000 * percent);
    }
    await eventually(async () => (await alertRows(subject)).every((r) => r.delivered_at !== null));
    for (const row of await alertRows(subject)) {
      expect(row).toMatchObject({ attempts: 3, last_error: 'attempt 2: HTTP 500' });
    }
    // A tampered body fails the check a receiver makes.
    expect(signatureValid({ ...mine[0]!, body: mine[0]!.body.replace('day', 'dax') })).toBe(false);

    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    console.log(
      metrics
        .split('\n')
        .filter((l) => l.includes('alerts'))
        .join('\n'),
    );
    expect(metric(metrics, 'token_budget_alerts_raised_total')).toBe(3);
    // At least these three: the instance also delivers what other test files left pending.
    expect(metric(metrics, 'token_budget_alerts_delivered_total')).toBeGreaterThanOrEqual(3);
  });

  it('delivers after a restart an alert raised before it', async () => {
    receiver.answer = () => 503;
    const first = await startApp();
    const [, subject] = await alertingSubject(first, '{50}');
    await spend(first, subject, 2);
    await eventually(async () => (await alertRows(subject))[0]?.attempts === 1, 5_000);
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    expect((await alertRows(subject))[0]?.delivered_at).toBeNull();

    receiver.answer = () => 200;
    await startApp();
    await eventually(() => receiver.delivered(new Set([subject])).size === 1, 10_000);
    await eventually(async () => (await alertRows(subject))[0]?.delivered_at !== null);
  });

  it('keeps commits fast while the webhook hangs', async () => {
    // 40 pending alerts of a tier nobody spends on, and a webhook that never answers.
    const subjects = Array.from({ length: 40 }, () => unique('hang'));
    await insertAlerts(subjects);
    receiver.answer = (json) => (String(json.subject).startsWith('hang_') ? 'hang' : 200);
    const app = await startApp({ ALERT_WEBHOOK_TIMEOUT_MS: '10000' });
    const [, subject] = await alertingSubject(app, '{50,80,100}');
    await eventually(() => receiver.hanging >= 16, 5_000);

    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      await spend(app, subject, 1);
      latencies.push(performance.now() - started);
    }
    // The attempts still hang (10 s timeout): had commits waited on them, they would too.
    expect(receiver.hanging).toBeGreaterThanOrEqual(16);
    expect(Math.max(...latencies)).toBeLessThan(2_000);
    // And no connection of the pool waits inside a transaction for the webhook.
    const [{ count }] = (await db.query(
      `SELECT count(*)::int AS count FROM pg_stat_activity
       WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    )) as { count: number }[];
    expect(count).toBe(0);
    // The alerts these commits raised are still recorded, to be delivered later.
    expect((await alertRows(subject)).map((r) => r.threshold_percent)).toEqual([50, 80, 100]);
  });
});

async function pendingOf(
  subjects: readonly string[],
): Promise<{ pending: number; attempts: number }> {
  const [row] = (await db.query(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL)::int AS pending,
            max(attempts)::int AS attempts
     FROM budget_alerts WHERE subject = ANY($1)`,
    [subjects],
  )) as { pending: number; attempts: number }[];
  return row!;
}

async function insertAlerts(subjects: readonly string[]): Promise<void> {
  await db.query(
    `INSERT INTO budget_alerts (subject, tier, "window", period, threshold_percent, limit_usd,
                                spent_usd)
     SELECT s, 'free', 'day', '2026-12-01', 80, 1, 0.8 FROM unnest($1::text[]) AS s`,
    [subjects],
  );
}

describe('dispatchers of many instances', () => {
  const options = {
    url: '',
    secret: SECRET,
    timeoutMs: 2_000,
    retryBaseMs: 50,
    retryMaxMs: 200,
    pollMs: 20,
  };

  it('ten racing instances deliver each alert exactly once', async () => {
    const subjects = Array.from({ length: 300 }, () => unique('race'));
    const mine = new Set(subjects);
    const pools = await Promise.all(
      Array.from({ length: 10 }, () => openDataSource(testEnv().databaseUrl)),
    );
    const perInstance = pools.map(() => 0);
    const dispatchers = pools.map((pool, i) => {
      // Ten instances and the receiver share this one busy process: a generous timeout, so a
      // late answer is not taken for a failure (which would rightly mean a second delivery).
      const dispatcher = new AlertDispatcher(new BudgetAlertRepository(pool), {
        ...options,
        url: receiver.url,
        timeoutMs: 15_000,
        batchSize: 4,
      });
      dispatcher.onDelivered((n) => (perInstance[i]! += n));
      return dispatcher;
    });
    try {
      await insertAlerts(subjects);
      dispatchers.forEach((dispatcher) => dispatcher.start());
      await eventually(() => receiver.delivered(mine).size === 300, 20_000);
      // Recorded too.
      await eventually(async () => (await pendingOf(subjects)).pending === 0, 5_000);
    } finally {
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()));
      await Promise.all(pools.map((pool) => pool.destroy()));
    }
    const counts = [...receiver.delivered(mine).values()];
    expect(counts.filter((n) => n > 1)).toEqual([]);
    expect(perInstance.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(await pendingOf(subjects)).toEqual({ pending: 0, attempts: 1 });
  });

  it('retries an alert whose instance died mid-attempt once its claim expires', async () => {
    const subject = unique('orphan');
    await insertAlerts([subject]);
    const repository = new BudgetAlertRepository(db);
    // An instance claims it (a 300 ms claim) and dies before answering.
    const claimed = await repository.claimDue(1_000, 300);
    expect(claimed.map((alert) => alert.subject)).toContain(subject);
    const survivor = new AlertDispatcher(repository, { ...options, url: receiver.url });
    survivor.start();
    const row = async () =>
      (
        (await db.query(`SELECT attempts, delivered_at FROM budget_alerts WHERE subject = $1`, [
          subject,
        ])) as { attempts: number; delivered_at: Date | null }[]
      )[0];
    try {
      await eventually(() => receiver.delivered(new Set([subject])).size === 1, 5_000);
      // The receiver has it; the dispatcher records the delivery right after the 2xx.
      await eventually(async () => (await row())?.delivered_at !== null, 5_000);
    } finally {
      await survivor.stop();
    }
    expect(await row()).toMatchObject({ attempts: 2, delivered_at: expect.any(Date) });
  });
});
