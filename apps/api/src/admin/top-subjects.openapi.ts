/** Response documentation of GET /v1/admin/top-subjects (merged into the OpenAPI components). */

const money = { type: 'string', pattern: '^\\d+\\.\\d{6}$', example: '12.345678' };
const bucket = {
  type: 'object',
  properties: {
    limit: { type: 'integer' },
    remaining: { type: 'integer' },
    reset_seconds: { type: 'integer' },
  },
};
const budget = {
  type: 'object',
  properties: {
    limit_usd: money,
    remaining_usd: money,
    reset_at: { type: 'string', format: 'date-time' },
  },
};

export const TOP_SUBJECTS_SCHEMAS: Record<string, object> = {
  AdminTopSubject: {
    type: 'object',
    properties: {
      subject: { type: 'string' },
      tier: { type: 'string', description: 'Its tier now (subjects row, else DEFAULT_TIER).' },
      cost_usd: { ...money, description: 'Spend in the period, from the ledger.' },
      requests: { type: 'integer', description: 'Charged ledger rows in the period.' },
      prompt_tokens: { type: 'integer' },
      completion_tokens: { type: 'integer' },
      limits: {
        type: 'object',
        nullable: true,
        description:
          'Its own live limits, as /v1/check shows them: only the limited dimensions. ' +
          'null while its tier row cannot be read.',
        properties: {
          requests: bucket,
          tokens: bucket,
          concurrent: {
            type: 'object',
            properties: { limit: { type: 'integer' }, remaining: { type: 'integer' } },
          },
          daily_cost: budget,
          monthly_cost: budget,
        },
      },
      in_flight: {
        type: 'object',
        nullable: true,
        description: 'Reservations held now (checked, not yet committed, refunded or expired).',
        properties: {
          reservations: { type: 'integer' },
          cost_usd: { ...money, description: 'Their estimated cost, reserved.' },
          prompt_tokens: { type: 'integer' },
          completion_tokens: { type: 'integer' },
        },
      },
    },
  },
  AdminTopSubjects: {
    type: 'object',
    properties: {
      period: { type: 'string', enum: ['day', 'month'] },
      from: { type: 'string', format: 'date' },
      to: { type: 'string', format: 'date' },
      subjects: { type: 'array', items: { $ref: '#/components/schemas/AdminTopSubject' } },
    },
  },
};
