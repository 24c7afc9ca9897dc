import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { ApiCommonErrors, ApiConflictError } from '../common/api-errors';
import { MessageDto } from '../common/message.dto';
import { PageQueryDto, TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { CreateRoleDto, RoleDto, UpdateRoleDto } from './role.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@ApiCommonErrors()
@Controller('roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @RequirePermission('roles', 'read')
  @ApiOperation({
    summary: 'List the roles the caller may read',
    description: `The total is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [RoleDto] })
  async list(
    @Query() query: PageQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RoleDto[]> {
    return sendPage(response, await this.roles.list(permissions.idsFor('roles', 'read'), query));
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('roles', 'write')
  @ApiOperation({ summary: 'Create a role' })
  @ApiConflictError('A role of that name exists')
  @ApiOkResponse({ type: RoleDto })
  create(@Body() input: CreateRoleDto): Promise<RoleDto> {
    return this.roles.create(input);
  }

  @Get(':name')
  @RequirePermission('roles', 'read', { param: 'name' })
  @ApiOperation({ summary: 'Get a role' })
  @ApiOkResponse({ type: RoleDto })
  get(@Param('name') name: string): Promise<RoleDto> {
    return this.roles.get(name);
  }

  @Patch(':name')
  @RequirePermission('roles', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Update a role' })
  @ApiConflictError('The role is built in')
  @ApiOkResponse({ type: RoleDto })
  update(@Param('name') name: string, @Body() input: UpdateRoleDto): Promise<RoleDto> {
    return this.roles.update(name, input);
  }

  @Delete(':name')
  @RequirePermission('roles', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Delete a role that no binding uses' })
  @ApiConflictError('The role is built in or still bound')
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('name') name: string): Promise<MessageDto> {
    return this.roles.delete(name);
  }
}
