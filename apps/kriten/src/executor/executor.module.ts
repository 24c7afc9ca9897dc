import { Global, Logger, Module } from '@nestjs/common';
import { JOB_EXECUTOR, JobExecutor, LocalExecutor } from '@kriten/executor';
import { KritenConfig } from '../config/kriten-config';

/** Provides the configured JobExecutor, checked ready before the server accepts requests. */
@Global()
@Module({
  providers: [
    {
      provide: JOB_EXECUTOR,
      inject: [KritenConfig],
      useFactory: async (config: KritenConfig): Promise<JobExecutor> => {
        if (config.executor !== 'local') {
          throw new Error(
            `KRITEN_EXECUTOR=${config.executor} is not available in this build: use 'local'`,
          );
        }
        const logger = new Logger(LocalExecutor.name);
        const executor = new LocalExecutor({
          dataDir: config.dataDir,
          maxOutputBytes: config.maxOutputBytes,
          repoRefreshSeconds: config.repoRefreshSeconds,
          logger: {
            log: (message) => logger.log(message),
            warn: (message) => logger.warn(message),
            error: (message) => logger.error(message),
            debug: (message) => logger.debug(message),
          },
        });
        await executor.checkReady();
        return executor;
      },
    },
  ],
  exports: [JOB_EXECUTOR],
})
export class ExecutorModule {}
