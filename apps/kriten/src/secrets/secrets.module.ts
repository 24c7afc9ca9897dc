import { Module } from '@nestjs/common';
import { TypeOrmModule, getRepositoryToken } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { KeyMaterial } from '../config/key-material';
import { KritenConfig } from '../config/kriten-config';
import { DatabaseSecretStore } from './database-secret-store';
import { KubernetesSecretStore } from './kubernetes-secret-store';
import { SecretCipher } from './secret-cipher';
import { SecretEntity } from './secret.entity';
import { SECRET_STORE, SecretStore } from './secret-store';
import { SecretsService } from './secrets.service';

type KubernetesLibrary = typeof import('@kriten/executor/kubernetes');

/**
 * Provides the SecretStore for the configured executor: values in Kubernetes Secrets for
 * `kubernetes`, where jobs read them, and encrypted in the database for `local`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SecretEntity])],
  providers: [
    {
      provide: SECRET_STORE,
      inject: [KritenConfig, KeyMaterial, getRepositoryToken(SecretEntity)],
      useFactory: async (
        config: KritenConfig,
        keys: KeyMaterial,
        secrets: Repository<SecretEntity>,
      ): Promise<SecretStore> => {
        if (config.executor === 'kubernetes') {
          return createKubernetesSecretStore(config, secrets);
        }
        return new DatabaseSecretStore(secrets, new SecretCipher(keys.secretKey));
      },
    },
    SecretsService,
  ],
  exports: [SecretsService],
})
export class SecretsModule {}

/**
 * Connects with the executor's settings, so that Secrets and Jobs share a namespace. The
 * client-node modules load only here: they add about 66 MiB to the server's memory, which the
 * local executor does not need.
 */
async function createKubernetesSecretStore(
  config: KritenConfig,
  secrets: Repository<SecretEntity>,
): Promise<SecretStore> {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  // A static import would load client-node for every executor, and the build rewrites the
  // @kriten alias in import statements only. This relative path is valid in the sources and in
  // dist/.
  const { connectToKubernetes } =
    require('../../../../libs/executor/src/kubernetes') as KubernetesLibrary;
  const connection = connectToKubernetes({
    namespace: config.namespace,
    kubeconfig: config.kubeconfig,
    serviceHost: config.kubernetesServiceHost,
  });
  return new KubernetesSecretStore(
    connection.kubeConfig.makeApiClient(CoreV1Api),
    connection.namespace,
    secrets,
  );
}
