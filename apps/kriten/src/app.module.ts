import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, serializeSqliteTransactions } from '@kriten/persistence';
import { ApiTokenEntity } from './api-tokens/api-token.entity';
import { AuditLogEntity } from './audit/audit-log.entity';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { KritenConfig } from './config/kriten-config';
import { ExecutorModule } from './executor/executor.module';
import { HealthModule } from './health/health.module';
import { GroupEntity, GroupMemberEntity } from './groups/group.entity';
import { GroupsModule } from './groups/groups.module';
import { JobEntity, JobOutputEntity } from './jobs/job.entity';
import { JobsModule } from './jobs/jobs.module';
import { RoleBindingEntity } from './role-bindings/role-binding.entity';
import { RoleBindingsModule } from './role-bindings/role-bindings.module';
import { RoleEntity } from './roles/role.entity';
import { RolesModule } from './roles/roles.module';
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
  GroupEntity,
  GroupMemberEntity,
  RoleEntity,
  RoleBindingEntity,
  ApiTokenEntity,
  AuditLogEntity,
];

@Module({})
export class AppModule {
  /** Builds the application for settings that were already validated. */
  static register(config: KritenConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        TypeOrmModule.forRootAsync({
          useFactory: () =>
            buildDataSourceOptions(
              { kind: config.databaseKind, url: config.databaseUrl, dataDir: config.dataDir },
              ENTITIES,
            ),
          dataSourceFactory: async (options) =>
            serializeSqliteTransactions(await new DataSource(options!).initialize()),
        }),
        ExecutorModule,
        AuditModule,
        AuthModule,
        RunnersModule,
        TasksModule,
        JobsModule,
        HealthModule,
        GroupsModule,
        RolesModule,
        RoleBindingsModule,
      ],
    };
  }
}
