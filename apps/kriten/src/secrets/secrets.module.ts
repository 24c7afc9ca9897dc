import { CoreV1Api } from '@kubernetes/client-node';
import { Module } from '@nestjs/common';
import { connectToKubernetes } from '@kriten/executor/kubernetes';
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
      useFactory: (
        config: KritenConfig,
        keys: KeyMaterial,
        secrets: Repository<SecretEntity>,
      ): SecretStore => {
        if (config.executor === 'kubernetes') {
          // The same settings as the executor's connection, so Secrets and Jobs share a namespace.
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
        return new DatabaseSecretStore(secrets, new SecretCipher(keys.secretKey));
      },
    },
    SecretsService,
  ],
  exports: [SecretsService],
})
export class SecretsModule {}
