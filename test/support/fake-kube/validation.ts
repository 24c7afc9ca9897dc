import { FieldError, type StatusCause } from './status';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const CONFIG_KEY = '[-._a-zA-Z0-9]+';
const ENV_VAR_NAME = '[-._a-zA-Z][-._a-zA-Z0-9]*';

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

function fullMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

// The detail texts below are the messages of k8s.io/apimachinery/pkg/util/validation, which
// print the regex with Go's %q, so every backslash appears doubled.
function regexDetail(pattern: string): string {
  return pattern.replace(/\\/g, '\\\\');
}

export function checkDns1123Subdomain(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) {
    problems.push('must be no more than 253 characters');
  }
  if (!fullMatch(DNS1123_SUBDOMAIN, value)) {
    problems.push(
      `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${regexDetail(DNS1123_SUBDOMAIN)}')`,
    );
  }
  return problems;
}

export function checkDns1123Label(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) {
    problems.push('must be no more than 63 characters');
  }
  if (!fullMatch(DNS1123_LABEL, value)) {
    problems.push(
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${regexDetail(DNS1123_LABEL)}')`,
    );
  }
  return problems;
}

export function checkQualifiedName(value: string): string[] {
  const slash = value.split('/');
  let name = value;
  const problems: string[] = [];
  if (slash.length === 2) {
    const prefix = slash[0];
    name = slash[1];
    if (prefix.length === 0) {
      problems.push('prefix part must be non-empty');
    } else {
      for (const problem of checkDns1123Subdomain(prefix)) {
        problems.push(`prefix part ${problem}`);
      }
    }
  } else if (slash.length > 2) {
    return [
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${regexDetail(QUALIFIED_NAME)}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) {
    problems.push('name part must be non-empty');
  } else if (name.length > 63) {
    problems.push('name part must be no more than 63 characters');
  }
  if (name.length > 0 && !fullMatch(QUALIFIED_NAME, name)) {
    problems.push(
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${regexDetail(QUALIFIED_NAME)}')`,
    );
  }
  return problems;
}

export function checkLabelValue(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) {
    problems.push('must be no more than 63 characters');
  }
  if (!fullMatch(LABEL_VALUE, value)) {
    problems.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${regexDetail(LABEL_VALUE)}')`,
    );
  }
  return problems;
}

export function checkConfigKey(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) {
    problems.push('must be no more than 253 characters');
  }
  if (!fullMatch(CONFIG_KEY, value)) {
    problems.push(
      `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${regexDetail(CONFIG_KEY)}')`,
    );
  }
  if (value === '.' || value === '..') {
    problems.push(`must not be '${value}'`);
  } else if (value.startsWith('..')) {
    problems.push(`must not start with '..'`);
  }
  return problems;
}

export function checkEnvVarName(value: string): string[] {
  if (fullMatch(ENV_VAR_NAME, value)) {
    return [];
  }
  return [
    `a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '${regexDetail(ENV_VAR_NAME)}')`,
  ];
}

/** Adds one FieldValueInvalid cause per problem that `check` finds in `value`. */
export function addProblems(
  causes: StatusCause[],
  field: string,
  value: string,
  problems: string[],
): void {
  for (const problem of problems) {
    causes.push(FieldError.invalid(field, value, problem));
  }
}

/**
 * Validates metadata as ValidateObjectMeta does: the name (or generateName) with the given
 * name rule, label keys and values, and the total size of annotations.
 */
export function checkObjectMeta(
  meta: Record<string, unknown>,
  nameRule: (name: string) => string[],
  causes: StatusCause[],
  path = 'metadata',
): void {
  const name = meta.name;
  const generateName = meta.generateName;
  if (typeof name === 'string' && name !== '') {
    addProblems(causes, `${path}.name`, name, nameRule(name));
  } else if (typeof generateName === 'string' && generateName !== '') {
    // The server checks the prefix without the random suffix, which may end in '-'.
    const prefix = generateName.replace(/-+$/, '') || 'a';
    addProblems(causes, `${path}.generateName`, generateName, nameRule(prefix));
  } else if (path === 'metadata') {
    causes.push(FieldError.required(`${path}.name`, 'name or generateName is required'));
  }

  checkLabels(meta.labels, `${path}.labels`, causes);

  const annotations = meta.annotations;
  if (annotations !== undefined && annotations !== null && typeof annotations === 'object') {
    let total = 0;
    for (const [key, value] of Object.entries(annotations as Record<string, unknown>)) {
      addProblems(causes, `${path}.annotations`, key, checkQualifiedName(key.toLowerCase()));
      total += Buffer.byteLength(key) + Buffer.byteLength(String(value));
    }
    if (total > TOTAL_ANNOTATION_BYTES) {
      causes.push(FieldError.tooLong(`${path}.annotations`, TOTAL_ANNOTATION_BYTES));
    }
  }
}

export function checkLabels(labels: unknown, field: string, causes: StatusCause[]): void {
  if (labels === undefined || labels === null || typeof labels !== 'object') {
    return;
  }
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    addProblems(causes, field, key, checkQualifiedName(key));
    if (typeof value === 'string') {
      addProblems(causes, field, value, checkLabelValue(value));
    }
  }
}
