import type { FastifyInstance } from 'fastify';

/**
 * `/dashboard/`, as a link or a typed address may end, goes to the page at `/dashboard` (the
 * router tells the two apart, and the dashboard's files are `/dashboard/<file>`).
 */
export function redirectDashboardSlash(fastify: FastifyInstance): void {
  fastify.get('/dashboard/', (request, reply) => {
    const query = request.url.indexOf('?');
    void reply.redirect(`/dashboard${query === -1 ? '' : request.url.slice(query)}`, 301);
  });
}
