import { describe, expect, it } from 'vitest';
import { eventually, unique } from '../support/app.harness.js';
import { auditRows, useAdminApp } from './admin.helpers.js';

/**
 * SPEC §4 Admin API, subjects' `parent`: PUT sets it (a cycle or a scope deeper than 4 levels is
 * a 400 in the error body, and changes nothing), GET ?parent= lists a subject's members, every
 * change is audited, and checks follow the new scope.
 */

const ctx = useAdminApp();

const path = (id: string) => `/v1/admin/subjects/${encodeURIComponent(id)}`;

async function put(id: string, body: Record<string, unknown>) {
  return ctx.admin.request('PUT', path(id), body);
}

/** A chain root → … → leaf of `levels` subjects on the free tier; returns it root first. */
async function chain(levels: number): Promise<string[]> {
  const ids = Array.from({ length: levels }, () => unique('lvl'));
  for (const [i, id] of ids.entries()) {
    const reply = await put(id, { tier: 'free', parent: i === 0 ? null : ids[i - 1] });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  }
  return ids;
}

describe('admin API: subject parents', () => {
  it('sets, shows, lists by parent, clears and audits a parent', async () => {
    const [org, team] = await chain(2);
    const members = [unique('m'), unique('m')].sort();
    for (const id of members) {
      expect((await put(id, { tier: 'free', parent: team })).status).toBe(201);
    }
    expect((await ctx.admin.request('GET', path(members[0]!))).body).toMatchObject({
      id: members[0],
      tier: 'free',
      parent: team,
    });
    const listed = await ctx.admin.request(
      'GET',
      `/v1/admin/subjects?parent=${encodeURIComponent(team!)}`,
    );
    expect(listed.status).toBe(200);
    expect((listed.body.subjects as { id: string }[]).map((s) => s.id)).toEqual(members);
    const underOrg = await ctx.admin.request('GET', `/v1/admin/subjects?parent=${org}`);
    expect((underOrg.body.subjects as { id: string }[]).map((s) => s.id)).toEqual([team]);

    // PUT replaces the row: without a parent the member stands alone again.
    expect((await put(members[0]!, { tier: 'free' })).status).toBe(200);
    expect((await ctx.admin.request('GET', path(members[0]!))).body.parent).toBeNull();
    const audit = await auditRows(ctx.t, members[0]!);
    expect(audit.map((row) => [row.action, row.actor])).toEqual([
      ['subject.put', ctx.admin.name],
      ['subject.put', ctx.admin.name],
    ]);
    expect(audit[1]!.before).toMatchObject({ parent: team });
    expect(audit[1]!.after).toMatchObject({ parent: null });

    // A parent with members cannot lose its row.
    expect((await ctx.admin.request('DELETE', path(team!))).status).toBe(409);
  });

  it('refuses a cycle with 400 and changes nothing', async () => {
    const [root, middle, leaf] = await chain(3);
    const before = await auditRows(ctx.t, root!);
    for (const parent of [leaf, root]) {
      const reply = await put(root!, { tier: 'free', parent });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: 'invalid_request',
        message: expect.stringMatching(/cycle/) as string,
        constraint: 'ck_subjects_scope_cycle',
      });
    }
    expect((await ctx.admin.request('GET', path(root!))).body.parent).toBeNull();
    expect(await auditRows(ctx.t, root!)).toEqual(before);
    expect((await ctx.admin.request('GET', path(middle!))).body.parent).toBe(root);
  });

  it('refuses a scope deeper than 4 levels with 400, whether the subject or its subtree moves', async () => {
    const four = await chain(4);
    const tooDeep = await put(unique('fifth'), { tier: 'free', parent: four[3] });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body).toMatchObject({
      error: 'invalid_request',
      message: expect.stringMatching(/4 levels/) as string,
      constraint: 'ck_subjects_scope_depth',
    });
    // A two-level subtree moved under a three-level chain would make five levels.
    const [top] = await chain(2);
    const three = await chain(3);
    const moved = await put(top!, { tier: 'free', parent: three[2] });
    expect(moved.status).toBe(400);
    expect(moved.body.constraint).toBe('ck_subjects_scope_depth');
    // Under the chain's second level it fits exactly: four levels.
    expect((await put(top!, { tier: 'free', parent: three[1] })).status).toBe(200);
  });

  it('refuses an unknown parent, a bad parent value and a bad filter with 400', async () => {
    const unknown = await put(unique('s'), { tier: 'free', parent: unique('nobody') });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_request' });
    expect(String(unknown.body.message)).toMatch(/No subject named/);
    expect((await put(unique('s'), { tier: 'free', parent: 42 })).status).toBe(400);
    expect((await put(unique('s'), { tier: 'free', parent: '' })).status).toBe(400);
    expect((await ctx.admin.request('GET', '/v1/admin/subjects?parent=bell%07')).status).toBe(400);
  });

  it("judges members' checks against the parent's tier within 2 s", async () => {
    const tier = unique('team_tier');
    expect(
      (await ctx.admin.request('PUT', `/v1/admin/tiers/${tier}`, { max_concurrent: 1 })).status,
    ).toBe(201);
    const team = unique('team');
    expect((await put(team, { tier })).status).toBe(201);
    const [a, b] = [unique('member'), unique('member')];
    for (const id of [a, b]) {
      expect((await put(id, { tier: 'free', parent: team })).status).toBe(201);
    }
    const body = (subject: string) => ({
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 10,
      max_tokens: 10,
    });
    await eventually(async () => {
      const first = await ctx.t.request('POST', '/v1/check', body(a));
      expect(first.status).toBe(200);
      const second = await ctx.t.request('POST', '/v1/check', body(b));
      for (const allowed of [first, second].filter((reply) => reply.status === 200)) {
        await ctx.t.request('POST', '/v1/refund', { reservation_id: allowed.body.reservation_id });
      }
      expect(second.status).toBe(429);
      expect(second.body).toMatchObject({ dimension: 'concurrent', scope_subject: team });
    }, 2_000);
  });
});
