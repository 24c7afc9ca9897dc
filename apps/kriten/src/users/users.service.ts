import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import bcrypt from 'bcryptjs';
import { randomBytes, randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { KritenConfig } from '../config/kriten-config';
import { UserEntity } from './user.entity';

export const ROOT_USERNAME = 'root';
export const LOCAL_PROVIDER = 'local';
const BCRYPT_COST = 10;

/** Compared against when a username is unknown, so that a login takes as long either way. */
const DUMMY_HASH = bcrypt.hashSync(randomBytes(16).toString('hex'), BCRYPT_COST);

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly config: KritenConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureRoot();
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  /** Returns the local user whose password matches, or null; takes the same time for unknown users. */
  async verifyLocalPassword(username: string, password: string): Promise<UserEntity | null> {
    const user = await this.users.findOneBy({ username, provider: LOCAL_PROVIDER });
    const matches = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    return user && user.passwordHash && matches ? user : null;
  }

  /** Creates root on the first start; KRITEN_ROOT_PASSWORD, when set, becomes its password. */
  private async ensureRoot(): Promise<void> {
    const root = await this.users.findOneBy({ username: ROOT_USERNAME, provider: LOCAL_PROVIDER });
    const configured = this.config.rootPassword;

    if (root) {
      if (configured && !(await bcrypt.compare(configured, root.passwordHash ?? ''))) {
        root.passwordHash = await bcrypt.hash(configured, BCRYPT_COST);
        root.tokenVersion += 1;
        await this.users.save(root);
        this.logger.log('root password changed to the value of KRITEN_ROOT_PASSWORD');
      }
      return;
    }

    const password = configured ?? randomBytes(18).toString('base64url');
    await this.users.insert({
      id: randomUUID(),
      username: ROOT_USERNAME,
      provider: LOCAL_PROVIDER,
      passwordHash: await bcrypt.hash(password, BCRYPT_COST),
      builtin: true,
      tokenVersion: 0,
    });
    if (configured) {
      this.logger.log('created user root with the password from KRITEN_ROOT_PASSWORD');
    } else {
      // Shown once on purpose: only the hash is kept, so this line is the only copy.
      this.logger.warn(`created user root with the generated password: ${password}`);
      this.logger.warn(
        'store it now: it is not shown again (set KRITEN_ROOT_PASSWORD to choose one)',
      );
    }
  }
}
