import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The peer of bench:check: what a team writes in thirty lines of Fastify and
 * rate-limiter-flexible. Per request: the bearer key hashed and looked up, a JSON-schema body,
 * and two buckets consumed on the same Redis (requests: 1 point; tokens: prompt + completion),
 * answered with both buckets' remaining points. Limits high enough never to refuse, like the
 * service's bench tier.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keyPrefix = process.env.REDIS_KEY_PREFIX ?? 'tbpeer:';
const knownKeys = new Set([sha256(process.env.PEER_API_KEY ?? '')]);
const requests = new RateLimiterRedis({
  storeClient: redis,
  keyPrefix: `${keyPrefix}rq`,
  points: 1_000_000,
  duration: 60,
});
const tokens = new RateLimiterRedis({
  storeClient: redis,
  keyPrefix: `${keyPrefix}tk`,
  points: 1_000_000_000,
  duration: 60,
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface Body {
  subject: string;
  model: string;
  prompt_tokens: number;
  max_tokens: number;
}

const app = Fastify({ logger: false });
app.post<{ Body: Body }>(
  '/v1/check',
  {
    schema: {
      body: {
        type: 'object',
        required: ['subject', 'model', 'prompt_tokens'],
        additionalProperties: false,
        properties: {
          subject: { type: 'string', minLength: 1, maxLength: 256 },
          model: { type: 'string', minLength: 1, maxLength: 128 },
          prompt_tokens: { type: 'integer', minimum: 0, maximum: 10_000_000 },
          max_tokens: { type: 'integer', minimum: 1, maximum: 10_000_000 },
        },
      },
    },
  },
  async (request, reply) => {
    const key = /^Bearer\s+(\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (key === undefined || !knownKeys.has(sha256(key))) {
      return reply.code(401).send({ error: 'unauthorized', message: 'Unknown API key.' });
    }
    const { subject, prompt_tokens: prompt, max_tokens: completion = 256 } = request.body;
    try {
      const [byRequests, byTokens] = await Promise.all([
        requests.consume(subject, 1),
        tokens.consume(subject, prompt + completion),
      ]);
      return {
        allowed: true,
        subject,
        limits: {
          requests: { remaining: byRequests.remainingPoints, reset_ms: byRequests.msBeforeNext },
          tokens: { remaining: byTokens.remainingPoints, reset_ms: byTokens.msBeforeNext },
        },
      };
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) {
        void reply.header('retry-after', Math.ceil(refusal.msBeforeNext / 1000));
        return reply.code(429).send({ error: 'rate_limit_exceeded', message: 'Slow down.' });
      }
      throw refusal;
    }
  },
);
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`peer listening on ${address}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
