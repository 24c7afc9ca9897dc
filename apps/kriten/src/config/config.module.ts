import { DynamicModule, Global, Module } from '@nestjs/common';
import { KritenConfig } from './kriten-config';
import { KeyMaterial, loadKeyMaterial } from './key-material';

/** Provides the settings, validated once at start, and the keys derived from them. */
@Global()
@Module({})
export class ConfigModule {
  static register(config: KritenConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: KritenConfig, useValue: config },
        { provide: KeyMaterial, useValue: loadKeyMaterial(config) },
      ],
      exports: [KritenConfig, KeyMaterial],
    };
  }
}
