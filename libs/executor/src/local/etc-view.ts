import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Name under /etc where the sandbox binds the host's /etc. */
export const HOST_ETC_NAME = '.host';
const SECRET_NAME = 'secret';
const REFRESH_MILLISECONDS = 60_000;
const VIEW_PREFIX = 'etc-view-';

/** An entry of the host's /etc and the target of the symlink that replaces it in a sandbox. */
interface EtcEntry {
  name: string;
  target: string;
}

/**
 * A folder that a sandbox mounts as /etc: one symlink per entry of the host's /etc into
 * `/etc/.host`, where the sandbox binds the real /etc, plus the empty mount points `.host`
 * and `secret`. It exists because bwrap 0.8 cannot create /etc/secret on the read-only root.
 * Building the same view per job with a tmpfs and a symlink argument per entry costs about
 * 1.5 ms, while binding a ready folder costs one mount. A host symlink keeps its own target,
 * because a relative target such as `../usr/lib/os-release` would resolve wrongly from inside
 * /etc/.host.
 */
export class EtcView {
  private current: string;
  private entriesKey: string;
  private checkedAt = performance.now();
  private sequence = 0;

  /** Builds the view in parentDir, removing views left by an earlier process. */
  constructor(
    private readonly parentDir: string,
    private readonly etcDir = '/etc',
  ) {
    for (const name of readdirSync(parentDir)) {
      if (name.startsWith(VIEW_PREFIX)) {
        rmSync(join(parentDir, name), { recursive: true, force: true });
      }
    }
    const entries = readEtcEntries(etcDir);
    this.entriesKey = JSON.stringify(entries);
    this.current = this.build(entries);
  }

  /**
   * Returns the folder to mount as /etc. Once a minute it checks the host's /etc, and builds a
   * new view when entries came or went. Old views stay until the next start, because running
   * sandboxes still show their symlinks.
   */
  path(): string {
    if (performance.now() - this.checkedAt > REFRESH_MILLISECONDS) {
      this.checkedAt = performance.now();
      const entries = readEtcEntries(this.etcDir);
      const key = JSON.stringify(entries);
      if (key !== this.entriesKey) {
        this.entriesKey = key;
        this.current = this.build(entries);
      }
    }
    return this.current;
  }

  private build(entries: EtcEntry[]): string {
    const dir = join(this.parentDir, `${VIEW_PREFIX}${process.pid}-${++this.sequence}`);
    mkdirSync(join(dir, HOST_ETC_NAME), { recursive: true, mode: 0o755 });
    mkdirSync(join(dir, SECRET_NAME), { mode: 0o755 });
    for (const entry of entries) {
      symlinkSync(entry.target, join(dir, entry.name));
    }
    return dir;
  }
}

/** Lists the host's /etc; an entry that disappears between the listing and lstat is left out. */
function readEtcEntries(etcDir: string): EtcEntry[] {
  const entries: EtcEntry[] = [];
  for (const name of readdirSync(etcDir).sort()) {
    if (name === HOST_ETC_NAME || name === SECRET_NAME) {
      continue;
    }
    try {
      const path = join(etcDir, name);
      const target = lstatSync(path).isSymbolicLink()
        ? readlinkSync(path)
        : `${HOST_ETC_NAME}/${name}`;
      entries.push({ name, target });
    } catch {
      continue;
    }
  }
  return entries;
}
