import { redactUrl } from '../config/kriten-config';

const ALLOWED_PROTOCOLS = ['https:', 'http:', 'ssh:', 'git:', 'file:'];
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

/** Returns why a git remote URL is unusable, or null when it is fine. */
export function gitUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) {
    return 'gitURL must be a non-empty string';
  }
  if (value.length > 2048) {
    return 'gitURL must be at most 2048 characters';
  }
  // A rejected URL may still carry a password, so messages quote it with the password masked.
  const redacted = redactUrl(value);
  // eslint-disable-next-line no-control-regex -- control characters are what this rejects
  if (/[\s\x00-\x1f\x7f]/.test(value) || value.startsWith('-')) {
    return `gitURL '${redacted}' is invalid: it must not start with '-' or contain spaces or control characters`;
  }
  if (SCP_LIKE.test(value)) {
    return null;
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `gitURL '${redacted}' is invalid: use https://host/path.git, ssh://, git@host:path or file:///path`;
  }
  if (!ALLOWED_PROTOCOLS.includes(url.protocol)) {
    return `gitURL '${redacted}' uses the unsupported scheme '${url.protocol}': use one of ${ALLOWED_PROTOCOLS.join(', ')}`;
  }
  if (url.password) {
    return "gitURL must not contain a password: put the access token in the runner's token field";
  }
  return null;
}
