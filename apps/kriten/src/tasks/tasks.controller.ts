import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCommonErrors, ApiConflictError } from '../common/api-errors';
import { CallerPermissions, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import { MessageDto } from '../common/message.dto';
import { CreateTaskDto, TaskDto, UpdateTaskDto } from './task.dto';
import { TasksService } from './tasks.service';

const SECRET_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;
const SCHEMA_OBJECT = {
  type: 'object',
  additionalProperties: true,
  description: 'OpenAPI 3 schema object',
} as const;

@ApiTags('tasks')
@ApiCommonErrors()
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @RequirePermission('tasks', 'read')
  @ApiOperation({
    summary: 'List the tasks the caller may read',
    description: `The number of tasks listed is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [TaskDto] })
  async list(
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TaskDto[]> {
    const tasks = await this.tasks.list(permissions.idsFor('tasks', 'read'));
    return sendPage(response, { items: tasks, total: tasks.length });
  }

  @Post()
  @HttpCode(200)
  @RequirePermission('tasks', 'write')
  @ApiOperation({ summary: 'Create a task on a runner' })
  @ApiConflictError('A task of that name exists')
  @ApiOkResponse({ type: TaskDto })
  create(@Body() input: CreateTaskDto): Promise<TaskDto> {
    return this.tasks.create(input);
  }

  @Get(':name')
  @RequirePermission('tasks', 'read', { param: 'name' })
  @ApiOperation({ summary: 'Get a task' })
  @ApiOkResponse({ type: TaskDto })
  get(@Param('name') name: string): Promise<TaskDto> {
    return this.tasks.get(name);
  }

  @Patch(':name')
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Update a task; secrets are merged' })
  @ApiOkResponse({ type: TaskDto })
  update(@Param('name') name: string, @Body() input: UpdateTaskDto): Promise<TaskDto> {
    return this.tasks.update(name, input);
  }

  @Delete(':name')
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({ summary: 'Delete a task; its jobs stay in the history' })
  @ApiOkResponse({ type: MessageDto })
  delete(@Param('name') name: string): Promise<MessageDto> {
    return this.tasks.delete(name);
  }

  @Get(':name/schema')
  @RequirePermission('tasks', 'read', { param: 'name' })
  @ApiOperation({ summary: "Get the task's input schema (null when it has none)" })
  @ApiOkResponse({ schema: { ...SCHEMA_OBJECT, nullable: true } })
  async getSchema(
    @Param('name') name: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    // Nest sends an empty body for a null result, so the JSON text is written out instead.
    response.type('application/json');
    return JSON.stringify(await this.tasks.getSchema(name));
  }

  @Post(':name/schema')
  @HttpCode(200)
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({ summary: "Set the task's input schema; one that does not compile is rejected" })
  @ApiBody({ schema: SCHEMA_OBJECT })
  @ApiOkResponse({ schema: SCHEMA_OBJECT })
  setSchema(
    @Param('name') name: string,
    @Body() schema: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.tasks.setSchema(name, schema);
  }

  @Delete(':name/schema')
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({ summary: "Remove the task's input schema" })
  @ApiOkResponse({ type: MessageDto })
  deleteSchema(@Param('name') name: string): Promise<MessageDto> {
    return this.tasks.deleteSchema(name);
  }

  @Get(':name/secret')
  @RequirePermission('tasks', 'read', { param: 'name' })
  @ApiOperation({ summary: "List the task's secret keys, values masked" })
  @ApiOkResponse({ schema: SECRET_MAP })
  getSecret(@Param('name') name: string): Promise<Record<string, string>> {
    return this.tasks.getSecret(name);
  }

  @Post(':name/secret')
  @HttpCode(200)
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({
    summary: "Merge into the task's secrets",
    description:
      'A new key is added, a changed value replaces, an empty string deletes the key, the mask keeps the stored value.',
  })
  @ApiBody({ schema: SECRET_MAP })
  @ApiOkResponse({ schema: SECRET_MAP })
  postSecret(
    @Param('name') name: string,
    @Body() secret: Record<string, string>,
  ): Promise<Record<string, string>> {
    return this.tasks.postSecret(name, secret);
  }

  @Delete(':name/secret')
  @RequirePermission('tasks', 'write', { param: 'name' })
  @ApiOperation({ summary: "Delete all of the task's secrets" })
  @ApiOkResponse({ type: MessageDto })
  deleteSecret(@Param('name') name: string): Promise<MessageDto> {
    return this.tasks.deleteSecret(name);
  }
}
