import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { JOB_EXECUTOR, JobExecutor } from '@kriten/executor';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { DomainError, notFound } from '../common/domain-error';
import { isDuplicateKeyError } from '../common/database-errors';
import { writeLock } from '../common/row-locks';
import { MessageDto } from '../common/message.dto';
import { GIT_TOKEN_KEY } from '@kriten/executor/kubernetes/resource-names';
import {
  effectiveResources,
  parseResources,
  requestAboveLimitProblem,
  ResourceRequirements,
  serializeResources,
} from '../common/resources';
import { idCondition } from '../common/pagination';
import type { IdScope } from '../auth/permission-set';
import { SECRET_MASK, maskKeys } from '../secrets/secret-merge';
import { SecretChange } from '../secrets/secret-store';
import { SecretsService, validateSecretMap } from '../secrets/secrets.service';
import { TaskEntity } from '../tasks/task.entity';
import { CreateRunnerDto, RunnerDto, UpdateRunnerDto } from './runner.dto';
import { RunnerEntity } from './runner.entity';

const DEFAULT_BRANCH = 'main';

@Injectable()
export class RunnersService {
  private readonly logger = new Logger(RunnersService.name);

  constructor(
    @InjectRepository(RunnerEntity) private readonly runners: Repository<RunnerEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretsService,
    @Inject(JOB_EXECUTOR) private readonly executor: JobExecutor,
  ) {}

  /** Lists the runners whose names are in the scope. */
  async list(scope: IdScope): Promise<RunnerDto[]> {
    const name = idCondition(scope);
    if (name === null) {
      return [];
    }
    const runners = await this.runners.find({
      where: name === undefined ? {} : { name },
      order: { name: 'ASC' },
    });
    return Promise.all(runners.map((runner) => this.toDto(runner)));
  }

  async get(name: string): Promise<RunnerDto> {
    return this.toDto(await this.load(name));
  }

  async load(name: string, manager?: EntityManager): Promise<RunnerEntity> {
    // Inside a write transaction the row stays locked until commit.
    const runner = manager
      ? await manager
          .getRepository(RunnerEntity)
          .findOne({ where: { name }, lock: writeLock(manager) })
      : await this.runners.findOneBy({ name });
    if (!runner) {
      throw notFound('runner', name);
    }
    return runner;
  }

  async create(input: CreateRunnerDto): Promise<RunnerDto> {
    const secret = input.secret === undefined ? {} : validateSecretMap('secret', input.secret);
    if (await this.runners.existsBy({ name: input.name })) {
      throw new DomainError('conflict', `runner '${input.name}' already exists`);
    }

    const runner = this.runners.create({
      name: input.name,
      image: input.image,
      gitUrl: input.gitURL,
      branch: input.branch ?? DEFAULT_BRANCH,
      resources: serializeResources(input.resources),
    });
    // Replacing rather than merging clears whatever an earlier failed save of this name left.
    const changes: SecretChange[] = [
      { owner: { kind: 'runner', name: runner.name }, action: 'replace', values: secret },
      {
        owner: { kind: 'runner_git_token', name: runner.name },
        action: 'replace',
        values: input.token ? { [GIT_TOKEN_KEY]: input.token } : {},
      },
    ];
    try {
      await this.secrets.save(changes, (manager) =>
        manager.getRepository(RunnerEntity).insert(runner),
      );
    } catch (error) {
      throw isDuplicateKeyError(error)
        ? new DomainError('conflict', `runner '${input.name}' already exists`)
        : error;
    }

    this.logger.log(
      `runner '${runner.name}' created on ${runner.gitUrl} branch '${runner.branch}'`,
    );
    return this.get(runner.name);
  }

  async update(name: string, input: UpdateRunnerDto): Promise<RunnerDto> {
    if (input.name !== undefined && input.name !== name) {
      throw new DomainError(
        'invalid_input',
        `name '${input.name}' differs from the runner in the path '${name}': runners cannot be renamed`,
      );
    }
    const secret =
      input.secret === undefined ? undefined : validateSecretMap('secret', input.secret);

    const existing = await this.load(name);
    if (input.resources !== undefined) {
      await this.checkTaskResources(name, input.resources ?? null);
    }
    const changes: SecretChange[] = [];
    if (secret) {
      changes.push({ owner: { kind: 'runner', name }, action: 'merge', posted: secret });
    }
    if (input.token !== undefined) {
      changes.push({
        owner: { kind: 'runner_git_token', name },
        action: 'merge',
        posted: { [GIT_TOKEN_KEY]: input.token },
      });
    }
    const before = `${existing.gitUrl} ${existing.branch}`;

    const sourceChanged = await this.secrets.save(changes, async (manager) => {
      const runner = await this.load(name, manager);
      runner.image = input.image ?? runner.image;
      runner.gitUrl = input.gitURL ?? runner.gitUrl;
      runner.branch = input.branch ?? runner.branch;
      if (input.resources !== undefined) {
        runner.resources = serializeResources(input.resources);
      }
      await manager.getRepository(RunnerEntity).save(runner);
      return before !== `${runner.gitUrl} ${runner.branch}` || input.token !== undefined;
    });

    if (sourceChanged) {
      await this.executor.forgetRunner(name);
    }
    this.logger.log(`runner '${name}' updated`);
    return this.get(name);
  }

  async delete(name: string): Promise<MessageDto> {
    await this.load(name);
    await this.requireNoTasks(name, this.dataSource.manager);
    const changes: SecretChange[] = [
      { owner: { kind: 'runner', name }, action: 'delete' },
      { owner: { kind: 'runner_git_token', name }, action: 'delete' },
    ];

    await this.secrets.save(changes, async (manager) => {
      await this.load(name, manager);
      await this.requireNoTasks(name, manager);
      await manager.getRepository(RunnerEntity).delete({ name });
    });

    await this.executor.forgetRunner(name);
    this.logger.log(`runner '${name}' deleted`);
    return { msg: `runner '${name}' deleted` };
  }

  async getSecret(name: string): Promise<Record<string, string>> {
    await this.load(name);
    return maskKeys(await this.secrets.keys('runner', name));
  }

  async postSecret(name: string, posted: unknown): Promise<Record<string, string>> {
    const secret = validateSecretMap('secret', posted === undefined ? {} : posted);
    await this.load(name);

    await this.secrets.save(
      [{ owner: { kind: 'runner', name }, action: 'merge', posted: secret }],
      (manager) => this.load(name, manager),
    );
    this.logger.log(`secrets of runner '${name}' updated`);
    return this.getSecret(name);
  }

  async deleteSecret(name: string): Promise<MessageDto> {
    await this.load(name);

    await this.secrets.save([{ owner: { kind: 'runner', name }, action: 'delete' }], (manager) =>
      this.load(name, manager),
    );
    this.logger.log(`secrets of runner '${name}' deleted`);
    return { msg: `secrets of runner '${name}' deleted` };
  }

  private async requireNoTasks(name: string, manager: EntityManager): Promise<void> {
    const tasks = await manager
      .getRepository(TaskEntity)
      .find({ where: { runner: name }, select: { name: true }, order: { name: 'ASC' } });
    if (tasks.length > 0) {
      const names = tasks.map((task) => `'${task.name}'`).join(', ');
      throw new DomainError(
        'conflict',
        `runner '${name}' still has tasks ${names}: delete them first`,
      );
    }
  }

  /** Rejects runner resources that would give one of its tasks a request above a limit. */
  private async checkTaskResources(
    name: string,
    resources: ResourceRequirements | null,
  ): Promise<void> {
    const tasks = await this.dataSource
      .getRepository(TaskEntity)
      .find({ where: { runner: name }, select: { name: true, resources: true } });
    for (const task of tasks) {
      const problem = requestAboveLimitProblem(
        `resources of task '${task.name}' combined with runner '${name}'`,
        effectiveResources(resources, parseResources(task.resources)),
      );
      if (problem) {
        throw new DomainError(
          'invalid_input',
          `${problem}: change the task's or the runner's resources`,
        );
      }
    }
  }

  private async toDto(runner: RunnerEntity): Promise<RunnerDto> {
    const [secretKeys, tokenKeys] = await Promise.all([
      this.secrets.keys('runner', runner.name),
      this.secrets.keys('runner_git_token', runner.name),
    ]);
    return {
      name: runner.name,
      image: runner.image,
      gitURL: runner.gitUrl,
      branch: runner.branch,
      token: tokenKeys.length > 0 ? SECRET_MASK : '',
      secret: maskKeys(secretKeys),
      resources: parseResources(runner.resources),
    };
  }
}
