import { Global, Logger, Module } from '@nestjs/common';
import { JOB_EXECUTOR, JobExecutor, LocalExecutor, type ExecutorLogger } from '@kriten/executor';
import type { KubernetesExecutor } from '@kriten/executor/kubernetes';
import { KritenConfig } from '../config/kriten-config';

type KubernetesLibrary = typeof import('@kriten/executor/kubernetes');

/** Provides the configured JobExecutor, checked ready before the server accepts requests. */
@Global()
@Module({
  providers: [
    {
      provide: JOB_EXECUTOR,
      inject: [KritenConfig],
      useFactory: async (config: KritenConfig): Promise<JobExecutor> => {
        const executor =
          config.executor === 'kubernetes'
            ? createKubernetesExecutor(config)
            : createLocalExecutor(config);
        await executor.checkReady();
        return executor;
      },
    },
  ],
  exports: [JOB_EXECUTOR],
})
export class ExecutorModule {}

function createLocalExecutor(config: KritenConfig): LocalExecutor {
  return new LocalExecutor({
    dataDir: config.dataDir,
    maxOutputBytes: config.maxOutputBytes,
    repoRefreshSeconds: config.repoRefreshSeconds,
    logger: executorLogger(LocalExecutor.name),
  });
}

/**
 * Builds the kubernetes executor. Its modules, and with them @kubernetes/client-node, load only
 * here, so that a server on the local executor does not carry them in memory.
 */
function createKubernetesExecutor(config: KritenConfig): KubernetesExecutor {
  // The build rewrites the @kriten alias in import statements only, so this require uses a
  // relative path, which is valid in the sources and in dist/.
  const { connectToKubernetes, KubernetesApi, KubernetesExecutor } =
    require('../../../../libs/executor/src/kubernetes') as KubernetesLibrary;
  const connection = connectToKubernetes({
    namespace: config.namespace,
    kubeconfig: config.kubeconfig,
    serviceHost: config.kubernetesServiceHost,
  });
  return new KubernetesExecutor({
    api: new KubernetesApi(connection.http, connection.namespace),
    connectionSource: connection.source,
    gitImage: config.gitImage,
    jobServiceAccount: config.jobServiceAccount,
    jobsTtlSeconds: config.jobsTtlSeconds,
    imagePullGraceSeconds: config.imagePullGraceSeconds,
    maxOutputBytes: config.maxOutputBytes,
    logger: executorLogger('KubernetesExecutor'),
  });
}

function executorLogger(context: string): ExecutorLogger {
  const logger = new Logger(context);
  return {
    log: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
    debug: (message) => logger.debug(message),
  };
}
