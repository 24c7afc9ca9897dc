import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiParam,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
  ApiExtraModels,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiCommonErrors, ApiConflictError, ApiSchemaRejectedError } from '../common/api-errors';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CallerPermissions, CurrentUser, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import type { RawBodyRequest } from '../common/body-parser';
import { JobCreatedDto, JobDto, JobSummaryDto, ListJobsQueryDto } from './job.dto';
import { JobsService } from './jobs.service';

export const TOTAL_COUNT_HEADER = 'X-Total-Count';

@ApiTags('jobs')
@ApiCommonErrors()
@ApiExtraModels(JobDto, JobCreatedDto)
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @RequirePermission('jobs', 'read')
  @ApiOperation({
    summary: 'List the jobs the caller may read, newest first',
    description: `The total matching the filters is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({
    type: [JobSummaryDto],
    headers: { [TOTAL_COUNT_HEADER]: { schema: { type: 'integer' } } },
  })
  async list(
    @Query() query: ListJobsQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<JobSummaryDto[]> {
    const { jobs, total } = await this.jobs.list(query, permissions.idsFor('jobs', 'read'));
    response.setHeader(TOTAL_COUNT_HEADER, String(total));
    return jobs;
  }

  @Post(':id')
  @HttpCode(200)
  @RequirePermission('jobs', 'write', { param: 'id' })
  @ApiParam({ name: 'id', description: 'Name of the task to start a job of' })
  @ApiSchemaRejectedError()
  @ApiOperation({
    summary: 'Start a job of a task',
    description:
      'The body (a JSON object, or none) reaches the job as EXTRA_VARS. An async task answers {id, msg} at once; a sync task answers with the finished job, or with {id, msg} if it is still running after its sync timeout.',
  })
  @ApiBody({ required: false, schema: { type: 'object', additionalProperties: true } })
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(JobCreatedDto) }, { $ref: getSchemaPath(JobDto) }] },
  })
  launch(
    @Param('id') task: string,
    @Body() body: unknown,
    @Req() request: Request & RawBodyRequest,
    @CurrentUser() caller: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<JobCreatedDto | string> {
    return this.launchJob(task, body, request, caller, response);
  }

  @Put(':id')
  @HttpCode(200)
  @RequirePermission('jobs', 'write', { param: 'id' })
  @ApiParam({ name: 'id', description: 'Name of the task to start a job of' })
  @ApiSchemaRejectedError()
  @ApiOperation({ summary: 'Start a job of a task (same as POST)' })
  @ApiBody({ required: false, schema: { type: 'object', additionalProperties: true } })
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(JobCreatedDto) }, { $ref: getSchemaPath(JobDto) }] },
  })
  launchWithPut(
    @Param('id') task: string,
    @Body() body: unknown,
    @Req() request: Request & RawBodyRequest,
    @CurrentUser() caller: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<JobCreatedDto | string> {
    return this.launchJob(task, body, request, caller, response);
  }

  @Get(':id')
  @RequirePermission('jobs', 'read', { jobParam: 'id' })
  @ApiOperation({ summary: 'Get a job with its output and result' })
  @ApiOkResponse({ type: JobDto })
  async get(
    @Param('id') id: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    response.type('application/json');
    return this.jobs.getSerialized(id);
  }

  @Get(':id/log')
  @RequirePermission('jobs', 'read', { jobParam: 'id' })
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({
    summary: "Get a job's combined output as text; while it runs, what it has printed so far",
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  getLog(@Param('id') id: string): Promise<string> {
    return this.jobs.getLog(id);
  }

  @Get(':task/schema')
  @RequirePermission('jobs', 'read', { param: 'task' })
  @ApiOperation({
    summary: 'Get the input schema that jobs of a task must match ({} when it has none)',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  getSchema(@Param('task') task: string): Promise<Record<string, unknown>> {
    return this.jobs.getSchema(task);
  }

  @Delete(':id')
  @RequirePermission('jobs', 'write', { jobParam: 'id' })
  @ApiOperation({ summary: 'Cancel a queued or running job' })
  @ApiConflictError('The job already ended')
  @ApiOkResponse({ type: JobCreatedDto })
  cancel(@Param('id') id: string): Promise<JobCreatedDto> {
    return this.jobs.cancel(id);
  }

  private async launchJob(
    task: string,
    body: unknown,
    request: Request & RawBodyRequest,
    caller: AuthenticatedUser,
    response: Response,
  ): Promise<JobCreatedDto | string> {
    const rawBody =
      request.rawBody && request.rawBody.length > 0 ? request.rawBody.toString('utf8') : undefined;
    const result = await this.jobs.launch(task, body, rawBody, caller);
    if ('finishedJob' in result) {
      response.type('application/json');
      return result.finishedJob;
    }
    return result.accepted;
  }
}
