import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretEntity } from './secret.entity';
import { SecretsService } from './secrets.service';

@Module({
  imports: [TypeOrmModule.forFeature([SecretEntity])],
  providers: [SecretsService],
  exports: [SecretsService],
})
export class SecretsModule {}
