import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunnersModule } from '../runners/runners.module';
import { SecretsModule } from '../secrets/secrets.module';
import { TaskEntity } from '../tasks/task.entity';
import { TasksModule } from '../tasks/tasks.module';
import { JobDispatcher } from './job-dispatcher';
import { JobWaiters } from './job-waiters';
import { JobsController } from './jobs.controller';
import { JobsPersistenceModule } from './jobs-persistence.module';
import { JobsService } from './jobs.service';

@Module({
  imports: [
    JobsPersistenceModule,
    TypeOrmModule.forFeature([TaskEntity]),
    RunnersModule,
    TasksModule,
    SecretsModule,
  ],
  controllers: [JobsController],
  providers: [JobsService, JobDispatcher, JobWaiters],
})
export class JobsModule {}
