import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TOKEN_COOKIE } from './auth/jwt.strategy';

/** Serves Swagger UI at /swagger and the OpenAPI document at /swagger/doc.json. */
export function setUpSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Kriten')
      .setDescription(
        'Runs scripts from git repositories as authenticated REST endpoints, one isolated job per call.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
      .addCookieAuth(TOKEN_COOKIE, { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE }, 'cookie')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'Token' }, 'api_token')
      .addSecurityRequirements('bearer')
      .addSecurityRequirements('cookie')
      .addSecurityRequirements('api_token')
      .build(),
  );
  SwaggerModule.setup('swagger', app, document, {
    jsonDocumentUrl: 'swagger/doc.json',
    yamlDocumentUrl: 'swagger/doc.yaml',
  });
}
