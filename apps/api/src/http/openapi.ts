import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_SCHEMAS } from '../admin/admin.openapi.js';
import { TOP_SUBJECTS_SCHEMAS } from '../admin/top-subjects.openapi.js';
import { DECISION_SCHEMAS } from '../decision/decision.schemas.js';
import { HEALTH_SCHEMAS } from '../health/health.openapi.js';

/** The OpenAPI document at /openapi.json and a browsable page at /docs, both open. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('token-budget')
    .setDescription(
      'Check before every LLM inference, commit the real usage after it, refund when it failed. ' +
        'Errors are always `{ "error": code, "message": sentence, ...details }`; money is a decimal ' +
        'string with six fractional digits.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'Authorization: Bearer <api key>',
    })
    .addTag('decision', 'Check, commit, refund and estimate around every inference.')
    .addTag('usage', "A subject's live limits and today's charges.")
    .addTag('admin', 'Manage tiers, subjects, models, keys; spend reports. Admin keys only.')
    .addTag('health', 'Liveness and readiness; open without a key.')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Response bodies are plain JSON schemas referenced by name from the controllers' decorators.
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...DECISION_SCHEMAS,
      ...HEALTH_SCHEMAS,
      ...ADMIN_SCHEMAS,
      ...TOP_SUBJECTS_SCHEMAS,
    },
  };
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}
