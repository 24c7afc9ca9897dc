import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
  ApiExtraModels,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { ApiCommonErrors, ApiConflictError } from '../common/api-errors';
import { MessageDto } from '../common/message.dto';
import { PageQueryDto, TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { CreateGroupDto, GroupDto, GroupMemberDto, GroupMemberWithIdDto } from './group.dto';
import { GroupsService } from './groups.service';

const MEMBER_LIST = { type: 'array', items: { $ref: getSchemaPath(GroupMemberDto) } } as const;

@ApiTags('groups')
@ApiCommonErrors()
@ApiExtraModels(GroupMemberDto)
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @RequirePermission('groups', 'read')
  @ApiOperation({
    summary: 'List the groups the caller may read',
    description: `The total is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [GroupDto] })
  async list(
    @Query() query: PageQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<GroupDto[]> {
    return sendPage(response, await this.groups.list(permissions.idsFor('groups', 'read'), query));
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('groups', 'write')
  @ApiOperation({ summary: 'Create a group' })
  @ApiConflictError('A group of that name exists')
  @ApiOkResponse({ type: GroupDto })
  create(@Body() input: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(input);
  }

  @Get(':name')
  @RequirePermission('groups', 'read', { param: 'name' })
  @ApiOperation({ summary: 'Get a group' })
  @ApiOkResponse({ type: GroupDto })
  get(@Param('name') name: string): Promise<GroupDto> {
    return this.groups.get(name);
  }

  @Delete(':name')
  @RequirePermission('groups', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Delete a group with its memberships and role bindings' })
  @ApiConflictError('The group is built in')
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('name') name: string): Promise<MessageDto> {
    return this.groups.delete(name);
  }

  @Get(':name/users')
  @RequirePermission('groups', 'read', { param: 'name' })
  @ApiOperation({ summary: "List a group's members" })
  @ApiOkResponse({ type: [GroupMemberWithIdDto] })
  listMembers(@Param('name') name: string): Promise<GroupMemberWithIdDto[]> {
    return this.groups.listMembers(name);
  }

  @Post(':name/users')
  @HttpCode(200)
  @RequirePermission('groups', 'write', { param: 'name' })
  @ApiOperation({
    summary: 'Add users to a local group',
    description:
      'If one of the users does not exist, the answer is 404 naming it and no member is added.',
  })
  @ApiBody({ schema: MEMBER_LIST })
  @ApiOkResponse({ type: [GroupMemberWithIdDto] })
  addMembers(
    @Param('name') name: string,
    @Body() members: unknown,
  ): Promise<GroupMemberWithIdDto[]> {
    return this.groups.addMembers(name, members);
  }

  @Delete(':name/users')
  @RequirePermission('groups', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Remove users from a local group' })
  @ApiBody({ schema: MEMBER_LIST })
  @ApiConflictError('root cannot leave the Admin group')
  @ApiOkResponse({ type: [GroupMemberWithIdDto] })
  removeMembers(
    @Param('name') name: string,
    @Body() members: unknown,
  ): Promise<GroupMemberWithIdDto[]> {
    return this.groups.removeMembers(name, members);
  }
}
