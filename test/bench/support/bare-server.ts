import Fastify from 'fastify';

/** The baseline: a bare Fastify app answering a fixed JSON, started like the service. */
const app = Fastify({ logger: false });
const answer = { allowed: true, reservation_id: 'fixed', limits: {} };
app.post('/v1/check', () => Promise.resolve(answer));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`bare fastify listening on ${address}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
