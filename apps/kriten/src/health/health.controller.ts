import { Controller, Get, Header, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../auth/permission.decorator';
import { LivenessDto, ReadinessDto } from './health.dto';
import { HealthService } from './health.service';

/** Paths outside the API prefix, where probes of Kubernetes and load balancers look for them. */
export const HEALTH_PATHS = ['healthz', 'readyz'];

// Probes carry no credentials and must not be rate limited, or a busy node turns a healthy
// server unready.
@ApiTags('health')
@Public()
@SkipThrottle()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Liveness: the process serves HTTP',
    description: 'Public. Touches neither the database nor the executor.',
    security: [],
  })
  @ApiOkResponse({ type: LivenessDto, description: 'The process serves HTTP' })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness: the database and the executor work',
    description:
      'Public. Returns 503 and names the failed checks when the server cannot serve API requests. ' +
      'Results are reused for one second.',
    security: [],
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Every check passed' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'At least one check failed' })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadinessDto> {
    const report = await this.health.checkReadiness();
    response.status(report.status === 'ready' ? 200 : 503);
    return report;
  }
}
