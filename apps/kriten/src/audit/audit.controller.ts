import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCommonErrors } from '../common/api-errors';
import type { PermissionSet } from '../auth/permission-set';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import { TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { AuditLogDto, ListAuditLogsQueryDto } from './audit-log.dto';
import { AuditService } from './audit.service';

@ApiTags('audit logs')
@ApiCommonErrors()
@Controller('audit_logs')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('audit_logs', 'read')
  @ApiOperation({
    summary: 'List audit records, newest first',
    description: `Logins, changes, job starts and cancels, and denied requests. The total matching the filters is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({
    type: [AuditLogDto],
    headers: { [TOTAL_COUNT_HEADER]: { schema: { type: 'integer' } } },
  })
  async list(
    @Query() query: ListAuditLogsQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AuditLogDto[]> {
    return sendPage(response, await this.audit.list(permissions, query));
  }

  @Get(':id')
  @RequirePermission('audit_logs', 'read')
  @ApiOperation({ summary: 'Get one audit record' })
  @ApiOkResponse({ type: AuditLogDto })
  get(
    @Param('id') id: string,
    @CallerPermissions() permissions: PermissionSet,
  ): Promise<AuditLogDto> {
    return this.audit.get(permissions, id);
  }
}
