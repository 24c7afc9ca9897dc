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
import { CreateRoleBindingDto, RoleBindingDto, UpdateRoleBindingDto } from './role-binding.dto';
import { RoleBindingsService } from './role-bindings.service';

@ApiTags('role_bindings')
@ApiCommonErrors()
@Controller('role_bindings')
export class RoleBindingsController {
  constructor(private readonly bindings: RoleBindingsService) {}

  @Get()
  @RequirePermission('role_bindings', 'read')
  @ApiOperation({
    summary: 'List the role bindings the caller may read',
    description: `The total is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [RoleBindingDto] })
  async list(
    @Query() query: PageQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RoleBindingDto[]> {
    const scope = permissions.idsFor('role_bindings', 'read');
    return sendPage(response, await this.bindings.list(scope, query));
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('role_bindings', 'write')
  @ApiOperation({ summary: 'Bind a role to a user or a group' })
  @ApiConflictError('A role binding of that name exists')
  @ApiOkResponse({ type: RoleBindingDto })
  create(@Body() input: CreateRoleBindingDto): Promise<RoleBindingDto> {
    return this.bindings.create(input);
  }

  @Get(':name')
  @RequirePermission('role_bindings', 'read', { param: 'name' })
  @ApiOperation({ summary: 'Get a role binding' })
  @ApiOkResponse({ type: RoleBindingDto })
  get(@Param('name') name: string): Promise<RoleBindingDto> {
    return this.bindings.get(name);
  }

  @Patch(':name')
  @RequirePermission('role_bindings', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Update a role binding' })
  @ApiConflictError('The role binding is built in')
  @ApiOkResponse({ type: RoleBindingDto })
  update(
    @Param('name') name: string,
    @Body() input: UpdateRoleBindingDto,
  ): Promise<RoleBindingDto> {
    return this.bindings.update(name, input);
  }

  @Delete(':name')
  @RequirePermission('role_bindings', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Delete a role binding' })
  @ApiConflictError('The role binding is built in')
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('name') name: string): Promise<MessageDto> {
    return this.bindings.delete(name);
  }
}
