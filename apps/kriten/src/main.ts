import 'reflect-metadata';
import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { AppModule } from './app.module';
import { installJsonBodyParser } from './common/body-parser';
import { CaseInsensitiveBodyPipe } from './common/case-insensitive-body.pipe';
import { DomainErrorFilter } from './common/domain-error.filter';
import { createValidationPipe } from './common/validation';
import { ConfigError, KritenConfig, loadConfig } from './config/kriten-config';
import { HEALTH_PATHS } from './health/health.controller';
import { setUpSwagger } from './swagger';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug'];

async function bootstrap(config: KritenConfig): Promise<void> {
  const logger = new ConsoleLogger({
    json: config.logFormat === 'json',
    colors: config.logFormat === 'text' && process.stdout.isTTY === true,
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    logger,
    bodyParser: false,
    abortOnError: false,
  });

  app.setGlobalPrefix('api/v1', { exclude: HEALTH_PATHS });
  if (config.trustProxy !== undefined) {
    app.set('trust proxy', config.trustProxy);
  }
  app.use(cookieParser());
  installJsonBodyParser(app.getHttpAdapter().getInstance(), config.maxBodyBytes);
  app.useGlobalPipes(new CaseInsensitiveBodyPipe(), createValidationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  app.enableShutdownHooks();
  setUpSwagger(app);

  await app.listen(config.port, config.listenHost);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(
    `Kriten listening on ${config.listenHost} port ${port} with the ${config.executor} executor; API docs at /swagger`,
    'Bootstrap',
  );
}

function main(): void {
  let config: KritenConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`kriten: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  bootstrap(config).catch((error: Error) => {
    console.error(`kriten: start failed: ${error.message}`);
    process.exit(1);
  });
}

main();
