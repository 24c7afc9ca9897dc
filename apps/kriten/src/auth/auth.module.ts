import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { ApiTokensModule } from '../api-tokens/api-tokens.module';
import { KeyMaterial } from '../config/key-material';
import { KritenConfig } from '../config/kriten-config';
import { DirectoryModule } from '../directory/directory.module';
import { JobsPersistenceModule } from '../jobs/jobs-persistence.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { JwtAuthGuard, PermissionGuard } from './auth.guards';
import { AuthService } from './auth.service';
import { AuthorizationService } from './authorization.service';
import { JWT_ALGORITHM, JwtStrategy } from './jwt.strategy';
import { LocalStrategy } from './local.strategy';
import { ApiTokenStrategy } from './api-token.strategy';
import { BuiltinIdentitySeeder } from './builtin-identity';
import { LoginThrottlerGuard, loginThrottlers } from './login-throttler.guard';

@Module({
  imports: [
    PassportModule,
    UsersModule,
    ApiTokensModule,
    DirectoryModule,
    JobsPersistenceModule,
    ThrottlerModule.forRootAsync({
      inject: [KritenConfig],
      useFactory: (config: KritenConfig) => ({
        throttlers: loginThrottlers(config.loginRateLimit),
        // The guard sets one standard Retry-After itself, in place of per-limit headers.
        setHeaders: false,
      }),
    }),
    JwtModule.registerAsync({
      inject: [KeyMaterial, KritenConfig],
      useFactory: (keys: KeyMaterial, config: KritenConfig) => ({
        secret: keys.jwtSecret,
        signOptions: { algorithm: JWT_ALGORITHM, expiresIn: config.jwtExpirySeconds },
        verifyOptions: { algorithms: [JWT_ALGORITHM] },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AuthorizationService,
    LocalStrategy,
    JwtStrategy,
    ApiTokenStrategy,
    LoginThrottlerGuard,
    BuiltinIdentitySeeder,
    // Guards run in this order: who is calling, then what they may do.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: PermissionGuard },
  ],
  exports: [AuthorizationService],
})
export class AuthModule {}
