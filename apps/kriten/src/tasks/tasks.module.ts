import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretsModule } from '../secrets/secrets.module';
import { InputSchemaCompiler } from './input-schema';
import { TaskEntity } from './task.entity';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [TypeOrmModule.forFeature([TaskEntity]), SecretsModule],
  controllers: [TasksController],
  providers: [TasksService, { provide: InputSchemaCompiler, useValue: new InputSchemaCompiler() }],
  exports: [TasksService],
})
export class TasksModule {}
