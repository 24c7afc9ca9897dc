import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { JOB_EXECUTOR, JobExecutor } from '@kriten/executor';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { DomainError, notFound } from '../common/domain-error';
import { isDuplicateKeyError } from '../common/database-errors';
import { MessageDto } from '../common/message.dto';
import { idCondition } from '../common/pagination';
import type { IdScope } from '../auth/permission-set';
import { SECRET_MASK, maskKeys, mergeSecrets } from '../secrets/secret-merge';
import { SecretsService, validateSecretMap } from '../secrets/secrets.service';
import { TaskEntity } from '../tasks/task.entity';
import { CreateRunnerDto, RunnerDto, UpdateRunnerDto } from './runner.dto';
import { RunnerEntity } from './runner.entity';

export const RUNNER_GIT_TOKEN_KEY = 'token';
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
    const runner = await (manager?.getRepository(RunnerEntity) ?? this.runners).findOneBy({ name });
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
    });
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.getRepository(RunnerEntity).insert(runner);
        await this.secrets.replace('runner', runner.name, mergeSecrets({}, secret), manager);
        if (input.token) {
          await this.secrets.replace(
            'runner_git_token',
            runner.name,
            { [RUNNER_GIT_TOKEN_KEY]: input.token },
            manager,
          );
        }
      });
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

    const sourceChanged = await this.dataSource.transaction(async (manager) => {
      const runner = await this.load(name, manager);
      const before = `${runner.gitUrl} ${runner.branch}`;
      runner.image = input.image ?? runner.image;
      runner.gitUrl = input.gitURL ?? runner.gitUrl;
      runner.branch = input.branch ?? runner.branch;
      await manager.getRepository(RunnerEntity).save(runner);

      if (secret) {
        await this.secrets.merge('runner', name, secret, manager);
      }
      if (input.token !== undefined) {
        await this.secrets.merge(
          'runner_git_token',
          name,
          { [RUNNER_GIT_TOKEN_KEY]: input.token },
          manager,
        );
      }
      return before !== `${runner.gitUrl} ${runner.branch}` || input.token !== undefined;
    });

    if (sourceChanged) {
      await this.executor.forgetRunner(name);
    }
    this.logger.log(`runner '${name}' updated`);
    return this.get(name);
  }

  async delete(name: string): Promise<MessageDto> {
    await this.dataSource.transaction(async (manager) => {
      await this.load(name, manager);
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
      await this.secrets.deleteAll('runner', name, manager);
      await this.secrets.deleteAll('runner_git_token', name, manager);
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
    await this.dataSource.transaction(async (manager) => {
      await this.load(name, manager);
      await this.secrets.merge('runner', name, secret, manager);
    });
    this.logger.log(`secrets of runner '${name}' updated`);
    return this.getSecret(name);
  }

  async deleteSecret(name: string): Promise<MessageDto> {
    await this.dataSource.transaction(async (manager) => {
      await this.load(name, manager);
      await this.secrets.deleteAll('runner', name, manager);
    });
    this.logger.log(`secrets of runner '${name}' deleted`);
    return { msg: `secrets of runner '${name}' deleted` };
  }

  /** Returns the runner's decrypted git token, for job launches only. */
  async readGitToken(name: string): Promise<string | undefined> {
    const values = await this.secrets.read('runner_git_token', name);
    return values[RUNNER_GIT_TOKEN_KEY];
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
    };
  }
}
