import { readFileSync, statSync } from 'node:fs';

/**
 * A bearer token kept in a file that its issuer replaces, as the kubelet does with a service
 * account token. The file is checked on every use and read again as soon as it changed, so a
 * rotated token is used at once. client-node 1.4, as its source reads, takes an in-cluster
 * token file at most once a minute and a kubeconfig `token-file` only once, at load. The
 * in-cluster e2e test fails without this class.
 */
export class RotatingTokenFile {
  private token = '';
  private signature = '';

  constructor(readonly path: string) {}

  /** Returns the current token; throws when the file cannot be read. */
  read(): string {
    // statSync follows the symlink that the kubelet swaps, so a new file has a new inode.
    const stats = statSync(this.path);
    const signature = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (signature !== this.signature) {
      this.token = readFileSync(this.path, 'utf8').trim();
      this.signature = signature;
    }
    return this.token;
  }
}
