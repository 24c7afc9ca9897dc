import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCommonErrors, ApiConflictError } from '../common/api-errors';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { MessageDto } from '../common/message.dto';
import { CreateRunnerDto, RunnerDto, UpdateRunnerDto } from './runner.dto';
import { RunnersService } from './runners.service';

const SECRET_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

@ApiTags('runners')
@ApiCommonErrors()
@Controller('runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

  @Get()
  @RequirePermission('runners', 'read')
  @ApiOperation({
    summary: 'List the runners the caller may read',
    description: `The number of runners listed is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [RunnerDto] })
  async list(
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RunnerDto[]> {
    const runners = await this.runners.list(permissions.idsFor('runners', 'read'));
    return sendPage(response, { items: runners, total: runners.length });
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('runners', 'write')
  @ApiOperation({ summary: 'Create a runner' })
  @ApiConflictError('A runner of that name exists')
  @ApiOkResponse({ type: RunnerDto })
  create(@Body() input: CreateRunnerDto): Promise<RunnerDto> {
    return this.runners.create(input);
  }

  @Get(':name')
  @RequirePermission('runners', 'read', { param: 'name' })
  @ApiOperation({ summary: 'Get a runner' })
  @ApiOkResponse({ type: RunnerDto })
  get(@Param('name') name: string): Promise<RunnerDto> {
    return this.runners.get(name);
  }

  @Patch(':name')
  @RequirePermission('runners', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Update a runner; secrets are merged' })
  @ApiOkResponse({ type: RunnerDto })
  update(@Param('name') name: string, @Body() input: UpdateRunnerDto): Promise<RunnerDto> {
    return this.runners.update(name, input);
  }

  @Delete(':name')
  @RequirePermission('runners', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Delete a runner that has no tasks' })
  @ApiConflictError('The runner still has tasks')
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('name') name: string): Promise<MessageDto> {
    return this.runners.delete(name);
  }

  @Get(':name/secret')
  @RequirePermission('runners', 'read', { param: 'name' })
  @ApiOperation({ summary: "List the runner's secret keys, values masked" })
  @ApiOkResponse({ schema: SECRET_MAP })
  getSecret(@Param('name') name: string): Promise<Record<string, string>> {
    return this.runners.getSecret(name);
  }

  @Post(':name/secret')
  @HttpCode(200)
  @RequirePermission('runners', 'write', { param: 'name' })
  @ApiOperation({
    summary: "Merge into the runner's secrets",
    description:
      'A new key is added, a changed value replaces, an empty string deletes the key, the mask keeps the stored value.',
  })
  @ApiBody({ schema: SECRET_MAP })
  @ApiOkResponse({ schema: SECRET_MAP })
  postSecret(
    @Param('name') name: string,
    @Body() secret: Record<string, string>,
  ): Promise<Record<string, string>> {
    return this.runners.postSecret(name, secret);
  }

  @Delete(':name/secret')
  @RequirePermission('runners', 'write', { param: 'name' })
  @ApiOperation({ summary: "Delete all of the runner's secrets" })
  @ApiOkResponse({ type: MessageDto })
  deleteSecret(@Param('name') name: string): Promise<MessageDto> {
    return this.runners.deleteSecret(name);
  }
}
