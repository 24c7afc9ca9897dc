import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { DomainError, notFound } from '../common/domain-error';
import { isDuplicateKeyError } from '../common/database-errors';
import { writeLock } from '../common/row-locks';
import { MessageDto } from '../common/message.dto';
import { idCondition } from '../common/pagination';
import type { IdScope } from '../auth/permission-set';
import { RunnerEntity } from '../runners/runner.entity';
import {
  effectiveResources,
  parseResources,
  requestAboveLimitProblem,
  ResourceRequirements,
  serializeResources,
} from '../common/resources';
import { maskKeys } from '../secrets/secret-merge';
import { SecretsService, validateSecretMap } from '../secrets/secrets.service';
import { InputSchemaCompiler, InputSchemaError } from './input-schema';
import { CreateTaskDto, TaskDto, UpdateTaskDto } from './task.dto';
import { TaskEntity } from './task.entity';

export const DEFAULT_SYNC_TIMEOUT_SECONDS = 20;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

@Injectable()
export class TasksService {
  private readonly logger = new Logger(TasksService.name);

  constructor(
    @InjectRepository(TaskEntity) private readonly tasks: Repository<TaskEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretsService,
    readonly schemas: InputSchemaCompiler,
  ) {}

  /** Lists the tasks whose names are in the scope. */
  async list(scope: IdScope): Promise<TaskDto[]> {
    const name = idCondition(scope);
    if (name === null) {
      return [];
    }
    const tasks = await this.tasks.find({
      where: name === undefined ? {} : { name },
      order: { name: 'ASC' },
    });
    return Promise.all(tasks.map((task) => this.toDto(task)));
  }

  async get(name: string): Promise<TaskDto> {
    return this.toDto(await this.load(name));
  }

  async load(name: string, manager?: EntityManager): Promise<TaskEntity> {
    // Inside a write transaction the row stays locked until commit.
    const task = manager
      ? await manager
          .getRepository(TaskEntity)
          .findOne({ where: { name }, lock: writeLock(manager) })
      : await this.tasks.findOneBy({ name });
    if (!task) {
      throw notFound('task', name);
    }
    return task;
  }

  async create(input: CreateTaskDto): Promise<TaskDto> {
    const secret = input.secret === undefined ? {} : validateSecretMap('secret', input.secret);
    const schema = input.schema === undefined ? null : this.checkSchema(input.schema);
    if (await this.tasks.existsBy({ name: input.name })) {
      throw new DomainError('conflict', `task '${input.name}' already exists`);
    }

    await this.requireRunner(input.runner, this.dataSource.manager);
    await this.checkCombinedResources(input.name, input.runner, input.resources ?? null);

    const task = this.tasks.create({
      name: input.name,
      runner: input.runner,
      command: input.command,
      synchronous: input.synchronous ?? false,
      schema,
      syncTimeoutSeconds: input.sync_timeout_seconds ?? null,
      timeoutSeconds: input.timeout_seconds ?? null,
      resources: serializeResources(input.resources),
    });
    try {
      // Replacing rather than merging clears whatever an earlier failed save of this name left.
      await this.secrets.save(
        [{ owner: { kind: 'task', name: task.name }, action: 'replace', values: secret }],
        async (manager) => {
          await this.requireRunner(input.runner, manager);
          await manager.getRepository(TaskEntity).insert(task);
        },
      );
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError('conflict', `task '${input.name}' already exists`)
        : error;
    }

    this.logger.log(`task '${task.name}' created on runner '${task.runner}'`);
    return this.get(task.name);
  }

  async update(name: string, input: UpdateTaskDto): Promise<TaskDto> {
    if (input.name !== undefined && input.name !== name) {
      throw new DomainError(
        'invalid_input',
        `name '${input.name}' differs from the task in the path '${name}': tasks cannot be renamed`,
      );
    }
    const secret =
      input.secret === undefined ? undefined : validateSecretMap('secret', input.secret);
    const schema =
      input.schema === undefined || input.schema === null
        ? input.schema
        : this.checkSchema(input.schema);

    const existing = await this.load(name);
    const runner = input.runner ?? existing.runner;
    if (input.runner !== undefined) {
      await this.requireRunner(input.runner, this.dataSource.manager);
    }
    const resources =
      input.resources === undefined ? parseResources(existing.resources) : input.resources;
    await this.checkCombinedResources(name, runner, resources);

    await this.secrets.save(
      secret ? [{ owner: { kind: 'task', name }, action: 'merge', posted: secret }] : [],
      async (manager) => {
        const task = await this.load(name, manager);
        if (input.runner !== undefined) {
          await this.requireRunner(input.runner, manager);
          task.runner = input.runner;
        }
        task.command = input.command ?? task.command;
        task.synchronous = input.synchronous ?? task.synchronous;
        task.schema = schema === undefined ? task.schema : schema;
        task.syncTimeoutSeconds = input.sync_timeout_seconds ?? task.syncTimeoutSeconds;
        task.timeoutSeconds = input.timeout_seconds ?? task.timeoutSeconds;
        if (input.resources !== undefined) {
          task.resources = serializeResources(input.resources);
        }
        await manager.getRepository(TaskEntity).save(task);
      },
    );

    this.logger.log(`task '${name}' updated`);
    return this.get(name);
  }

  async delete(name: string): Promise<MessageDto> {
    await this.load(name);

    await this.secrets.save(
      [{ owner: { kind: 'task', name }, action: 'delete' }],
      async (manager) => {
        await this.load(name, manager);
        await manager.getRepository(TaskEntity).delete({ name });
      },
    );
    this.logger.log(`task '${name}' deleted`);
    return { msg: `task '${name}' deleted` };
  }

  async getSchema(name: string): Promise<Record<string, unknown> | null> {
    const task = await this.load(name);
    return task.schema === null ? null : (JSON.parse(task.schema) as Record<string, unknown>);
  }

  async setSchema(name: string, schema: unknown): Promise<Record<string, unknown>> {
    const text = this.checkSchema(schema);
    const result = await this.tasks.update({ name }, { schema: text });
    if (!result.affected) {
      throw notFound('task', name);
    }
    this.logger.log(`schema of task '${name}' set`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  async deleteSchema(name: string): Promise<MessageDto> {
    const result = await this.tasks.update({ name }, { schema: null });
    if (!result.affected) {
      throw notFound('task', name);
    }
    this.logger.log(`schema of task '${name}' deleted`);
    return { msg: `schema of task '${name}' deleted` };
  }

  async getSecret(name: string): Promise<Record<string, string>> {
    await this.load(name);
    return maskKeys(await this.secrets.keys('task', name));
  }

  async postSecret(name: string, posted: unknown): Promise<Record<string, string>> {
    const secret = validateSecretMap('secret', posted === undefined ? {} : posted);
    await this.load(name);

    await this.secrets.save(
      [{ owner: { kind: 'task', name }, action: 'merge', posted: secret }],
      (manager) => this.load(name, manager),
    );
    this.logger.log(`secrets of task '${name}' updated`);
    return this.getSecret(name);
  }

  async deleteSecret(name: string): Promise<MessageDto> {
    await this.load(name);

    await this.secrets.save([{ owner: { kind: 'task', name }, action: 'delete' }], (manager) =>
      this.load(name, manager),
    );
    this.logger.log(`secrets of task '${name}' deleted`);
    return { msg: `secrets of task '${name}' deleted` };
  }

  /** Rejects task resources whose combination with the runner's has a request above a limit. */
  private async checkCombinedResources(
    task: string,
    runner: string,
    resources: ResourceRequirements | null,
  ): Promise<void> {
    const runnerEntity = await this.dataSource
      .getRepository(RunnerEntity)
      .findOneBy({ name: runner });
    const problem = requestAboveLimitProblem(
      `resources of task '${task}' combined with runner '${runner}'`,
      effectiveResources(parseResources(runnerEntity?.resources ?? null), resources),
    );
    if (problem) {
      throw new DomainError(
        'invalid_input',
        `${problem}: change the task's or the runner's resources`,
      );
    }
  }

  /** Compiles a schema to reject it now rather than at launch; returns it as JSON text. */
  private checkSchema(schema: unknown): string {
    try {
      this.schemas.compile(schema);
    } catch (error) {
      if (error instanceof InputSchemaError) {
        throw new DomainError('invalid_input', error.message);
      }
      throw error;
    }
    return JSON.stringify(schema);
  }

  private async requireRunner(runner: string, manager: EntityManager): Promise<void> {
    if (!(await manager.getRepository(RunnerEntity).existsBy({ name: runner }))) {
      throw new DomainError(
        'invalid_input',
        `runner '${runner}' not found: create it first with POST /api/v1/runners`,
      );
    }
  }

  private async toDto(task: TaskEntity): Promise<TaskDto> {
    return {
      name: task.name,
      runner: task.runner,
      command: task.command,
      synchronous: task.synchronous,
      schema: task.schema === null ? null : (JSON.parse(task.schema) as Record<string, unknown>),
      secret: maskKeys(await this.secrets.keys('task', task.name)),
      sync_timeout_seconds: task.syncTimeoutSeconds ?? DEFAULT_SYNC_TIMEOUT_SECONDS,
      timeout_seconds: task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      resources: parseResources(task.resources),
    };
  }
}
