import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity, JobOutputEntity } from './job.entity';
import { JobsRepository } from './jobs.repository';

@Module({
  imports: [TypeOrmModule.forFeature([JobEntity, JobOutputEntity])],
  providers: [JobsRepository],
  exports: [JobsRepository],
})
export class JobsPersistenceModule {}
