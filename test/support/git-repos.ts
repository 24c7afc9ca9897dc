import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTempDir } from './temp';

/** A real git repository in a temporary folder, reachable with a file:// URL. */
export class GitRepository {
  private constructor(readonly path: string) {}

  get url(): string {
    return `file://${this.path}`;
  }

  static create(files: Record<string, string>, branch = 'main'): GitRepository {
    const path = makeTempDir('kriten-repo-');
    execFileSync('git', ['init', '--quiet', `--initial-branch=${branch}`, path]);
    const repository = new GitRepository(path);
    repository.commit(files, 'initial commit');
    return repository;
  }

  /** Writes files (mode 0755 for *.sh) and commits them. */
  commit(files: Record<string, string>, message = 'update'): void {
    for (const [name, content] of Object.entries(files)) {
      const file = join(this.path, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      if (name.endsWith('.sh')) {
        chmodSync(file, 0o755);
      }
    }
    this.git('add', '-A');
    this.git(
      '-c',
      'user.name=Test',
      '-c',
      'user.email=test@localhost',
      'commit',
      '--quiet',
      '-m',
      message,
    );
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.path, ...args], { encoding: 'utf8' });
  }
}
