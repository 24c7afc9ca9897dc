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
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { ApiCommonErrors, ApiConflictError } from '../common/api-errors';
import { MessageDto } from '../common/message.dto';
import { PageQueryDto, TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { CreateUserDto, UpdateUserDto, UserDto } from './user.dto';
import { UsersService } from './users.service';

const USER_PARAM = { name: 'id', description: "The user's id or username" };

@ApiTags('users')
@ApiCommonErrors()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequirePermission('users', 'read')
  @ApiOperation({
    summary: 'List the users the caller may read',
    description: `The total is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [UserDto] })
  async list(
    @Query() query: PageQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UserDto[]> {
    return sendPage(response, await this.users.list(permissions.idsFor('users', 'read'), query));
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('users', 'write')
  @ApiOperation({ summary: 'Create a local user' })
  @ApiConflictError('A user of that name and provider exists')
  @ApiOkResponse({ type: UserDto })
  create(@Body() input: CreateUserDto): Promise<UserDto> {
    return this.users.create(input);
  }

  @Get(':id')
  @RequirePermission('users', 'read', { userParam: 'id' })
  @ApiParam(USER_PARAM)
  @ApiOperation({ summary: 'Get a user by id or username' })
  @ApiOkResponse({ type: UserDto })
  get(@Param('id') reference: string): Promise<UserDto> {
    return this.users.get(reference);
  }

  @Patch(':id')
  @RequirePermission('users', 'write', { userParam: 'id' })
  @ApiParam(USER_PARAM)
  @ApiOperation({ summary: "Change a local user's password; earlier tokens stop working" })
  @ApiOkResponse({ type: UserDto })
  update(@Param('id') reference: string, @Body() input: UpdateUserDto): Promise<UserDto> {
    return this.users.update(reference, input);
  }

  @Delete(':id')
  @RequirePermission('users', 'write', { userParam: 'id' })
  @ApiParam(USER_PARAM)
  @ApiOperation({ summary: 'Delete a user with its tokens, memberships and role bindings' })
  @ApiConflictError('The user is built in')
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('id') reference: string): Promise<MessageDto> {
    return this.users.delete(reference);
  }
}
