/**
 * Maximum length of a runner or task name. A job id is `<task>-<5 characters>` and is stored
 * in a Kubernetes label value, which allows at most 63 characters.
 */
export const MAX_NAME_LENGTH = 57;

/** Maximum length of a Kubernetes secret key. */
export const MAX_SECRET_KEY_LENGTH = 253;

/** Maximum length of a git branch name, a Kriten limit that git itself does not set. */
export const MAX_BRANCH_LENGTH = 255;

/** RFC 1123 label, as Kubernetes uses it for names. */
const RFC_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

// Characters that git forbids anywhere in a ref name, besides control characters.
const GIT_REF_FORBIDDEN_CHARACTERS = [' ', '~', '^', ':', '?', '*', '[', '\\'];

// Longer values are cut in messages, so an oversized request does not fill the logs.
const MAX_SHOWN_LENGTH = 80;

/**
 * Checks a runner or task name. Returns null for a valid name, otherwise a message that
 * describes the problem.
 */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') {
    return `name must be a string, got ${describeType(name)}`;
  }

  if (name.length > MAX_NAME_LENGTH) {
    return (
      `name ${quote(name)} is invalid: it has ${name.length} characters, ` +
      `at most ${MAX_NAME_LENGTH} are allowed`
    );
  }
  if (!RFC_1123_LABEL.test(name)) {
    return (
      `name ${quote(name)} is invalid: use lowercase letters, digits and '-', starting and ` +
      `ending with a letter or digit (RFC 1123 label), at most ${MAX_NAME_LENGTH} characters`
    );
  }
  return null;
}

/**
 * Checks a key of a Kubernetes secret. Returns null for a valid key, otherwise a message that
 * describes the problem.
 */
export function secretKeyProblem(key: string): string | null {
  if (key.length > MAX_SECRET_KEY_LENGTH) {
    return (
      `secret key ${quote(key)} is invalid: it has ${key.length} characters, ` +
      `at most ${MAX_SECRET_KEY_LENGTH} are allowed`
    );
  }
  if (!SECRET_KEY.test(key) || key === '.' || key === '..') {
    return (
      `secret key ${quote(key)} is invalid: use letters, digits, '-', '_' and '.', ` +
      `at most ${MAX_SECRET_KEY_LENGTH} characters, and not '.' or '..' (Kubernetes secret key)`
    );
  }
  return null;
}

/**
 * Checks a git branch name with the rules of `git check-ref-format --branch`, and the Kriten
 * length limit. Returns null for a valid name, otherwise a message that names the broken rule.
 */
export function gitRefProblem(branch: unknown): string | null {
  if (typeof branch !== 'string') {
    return `branch must be a string, got ${describeType(branch)}`;
  }

  const reason = branchRuleViolation(branch);
  if (reason === null) {
    return null;
  }
  return `branch ${quote(branch)} is invalid: ${reason}`;
}

function branchRuleViolation(branch: string): string | null {
  if (branch === '') {
    return 'it must not be empty';
  }
  if (branch.length > MAX_BRANCH_LENGTH) {
    return `it has ${branch.length} characters, at most ${MAX_BRANCH_LENGTH} are allowed`;
  }
  return characterViolation(branch) ?? shapeViolation(branch) ?? componentViolation(branch);
}

function characterViolation(branch: string): string | null {
  if ([...branch].some(isControlCharacter)) {
    return 'it must not contain control characters';
  }

  const forbidden = GIT_REF_FORBIDDEN_CHARACTERS.find((character) => branch.includes(character));
  if (forbidden !== undefined) {
    return `it must not contain '${forbidden}'`;
  }
  return null;
}

function shapeViolation(branch: string): string | null {
  if (branch.includes('..')) {
    return "it must not contain '..'";
  }
  if (branch.includes('@{')) {
    return "it must not contain '@{'";
  }
  // git check-ref-format --branch accepts '@', but git reads '@' alone as HEAD in revisions.
  if (branch === '@') {
    return "it must not be '@', which git reads as HEAD";
  }
  if (branch === 'HEAD') {
    return "it must not be 'HEAD'";
  }
  if (branch.startsWith('-')) {
    return "it must not start with '-'";
  }
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) {
    return "it must not start or end with '/' or contain '//'";
  }
  if (branch.endsWith('.')) {
    return "it must not end with '.'";
  }
  return null;
}

function componentViolation(branch: string): string | null {
  for (const component of branch.split('/')) {
    if (component.startsWith('.')) {
      return `its component '${component}' must not start with '.'`;
    }
    if (component.endsWith('.lock')) {
      return `its component '${component}' must not end with '.lock'`;
    }
  }
  return null;
}

function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Quotes a value for a message, escaping control characters and cutting long values. */
function quote(value: string): string {
  const shortened =
    value.length > MAX_SHOWN_LENGTH ? `${value.slice(0, MAX_SHOWN_LENGTH)}...` : value;
  const escaped = [...shortened].map(escapeControlCharacter).join('');
  return `'${escaped}'`;
}

/** Checks for an ASCII control character (U+0000 to U+001F, U+007F), which git forbids in refs. */
function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

function escapeControlCharacter(character: string): string {
  if (!isControlCharacter(character)) {
    return character;
  }
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
