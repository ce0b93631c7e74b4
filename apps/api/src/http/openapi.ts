import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

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
      description: 'Authorization: Bearer <api key>',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}
