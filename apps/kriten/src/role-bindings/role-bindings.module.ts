import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoleBindingEntity } from './role-binding.entity';
import { RoleBindingsController } from './role-bindings.controller';
import { RoleBindingsService } from './role-bindings.service';

@Module({
  imports: [TypeOrmModule.forFeature([RoleBindingEntity])],
  controllers: [RoleBindingsController],
  providers: [RoleBindingsService],
})
export class RoleBindingsModule {}
