import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Logger,
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
import { once } from 'node:events';
import { ApiCommonErrors, ApiConflictError, ApiSchemaRejectedError } from '../common/api-errors';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CallerPermissions, CurrentUser, RequirePermission } from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import type { RawBodyRequest } from '../common/body-parser';
import { JobCreatedDto, JobDto, JobLogQueryDto, JobSummaryDto, ListJobsQueryDto } from './job.dto';
import { JobsService } from './jobs.service';

export const TOTAL_COUNT_HEADER = 'X-Total-Count';

const logger = new Logger('JobsController');

/** Writes chunks as they come, waiting when the client reads slower than the job prints. */
async function streamText(
  response: Response,
  chunks: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<void> {
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.flushHeaders();
  try {
    for await (const chunk of chunks) {
      if (signal.aborted) {
        break;
      }
      if (chunk.length > 0 && !response.write(chunk)) {
        await once(response, 'drain', { signal }).catch(() => undefined);
      }
    }
  } catch (error) {
    // The status line is already sent, so the stream just ends early.
    logger.error(`following a job's output failed: ${(error as Error).message}`);
  }
  response.end();
}

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
  @ApiOperation({
    summary: "Get a job's combined output as text; while it runs, what it has printed so far",
    description:
      'With follow=true the answer streams the output while the job runs and ends when the job ends; a queued job is waited for, and a finished job returns its stored output at once.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  async getLog(
    @Param('id') id: string,
    @Query() query: JobLogQueryDto,
    @Res() response: Response,
  ): Promise<void> {
    response.type('text/plain; charset=utf-8');
    if (query.follow !== 'true') {
      response.send(await this.jobs.getLog(id));
      return;
    }

    // 'close' on the response also fires when the client goes away before the end.
    const abort = new AbortController();
    response.once('close', () => abort.abort());
    const log = await this.jobs.followLog(id, abort.signal);
    if (typeof log === 'string') {
      response.send(log);
      return;
    }
    await streamText(response, log, abort.signal);
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
