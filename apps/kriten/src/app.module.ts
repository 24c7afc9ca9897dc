import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions } from '@kriten/persistence';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { KritenConfig } from './config/kriten-config';
import { ExecutorModule } from './executor/executor.module';
import { HealthModule } from './health/health.module';
import { JobEntity, JobOutputEntity } from './jobs/job.entity';
import { JobsModule } from './jobs/jobs.module';
import { RunnerEntity } from './runners/runner.entity';
import { RunnersModule } from './runners/runners.module';
import { SecretEntity } from './secrets/secret.entity';
import { TaskEntity } from './tasks/task.entity';
import { TasksModule } from './tasks/tasks.module';
import { UserEntity } from './users/user.entity';

export const ENTITIES = [
  UserEntity,
  RunnerEntity,
  TaskEntity,
  SecretEntity,
  JobEntity,
  JobOutputEntity,
];

@Module({})
export class AppModule {
  /** Builds the application for settings that were already validated. */
  static register(config: KritenConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        TypeOrmModule.forRoot(
          buildDataSourceOptions(
            { kind: config.databaseKind, url: config.databaseUrl, dataDir: config.dataDir },
            ENTITIES,
          ),
        ),
        ExecutorModule,
        AuthModule,
        RunnersModule,
        TasksModule,
        JobsModule,
        HealthModule,
      ],
    };
  }
}
