/** CPU and memory amounts as Kubernetes quantities, such as `500m`, `2`, `256Mi` or `1e9`. */
export interface ResourceList {
  cpu?: string;
  memory?: string;
}

/** Requests and limits of a job's container, as in a Kubernetes ResourceRequirements. */
export interface ResourceRequirements {
  requests?: ResourceList;
  limits?: ResourceList;
}

const SECTIONS = ['requests', 'limits'] as const;
const RESOURCE_NAMES = ['cpu', 'memory'] as const;

/**
 * The quantity grammar of Kubernetes (k8s.io/apimachinery resource.Quantity) without a sign,
 * because requests and limits must not be negative. A quantity is a number with an optional
 * fraction, then a binary suffix (Ki to Ei), a decimal suffix (m, k, M, G, T, P, E) or a
 * decimal exponent (e3, E-2).
 */
export const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Maximum length of a quantity. Kubernetes quantities are short, and this bounds the stored text. */
const MAX_QUANTITY_LENGTH = 64;

const BINARY_MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const DECIMAL_MULTIPLIERS: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * Returns the value of a quantity as a number (cores or bytes), or undefined when it does not
 * match the grammar. Floating point is exact enough to compare a request with a limit.
 */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match || text.length > MAX_QUANTITY_LENGTH) {
    return undefined;
  }
  const number = Number(match[1]);
  const suffix = match[3] ?? '';
  if (suffix in BINARY_MULTIPLIERS) {
    return number * BINARY_MULTIPLIERS[suffix];
  }
  if (suffix in DECIMAL_MULTIPLIERS) {
    return number * DECIMAL_MULTIPLIERS[suffix];
  }
  return number * 10 ** Number(suffix.slice(1));
}

/**
 * Checks a posted `resources` value. Returns null when it is valid, otherwise a message that
 * names the field and the problem. Only `requests` and `limits` with `cpu` and `memory` are
 * allowed, each a quantity string, and a request must not exceed the limit of the same resource.
 */
export function resourcesProblem(field: string, value: unknown): string | null {
  if (!isPlainObject(value)) {
    return `${field} must be an object with 'requests' and/or 'limits'`;
  }
  const unknownSection = Object.keys(value).find(
    (key) => !(SECTIONS as readonly string[]).includes(key),
  );
  if (unknownSection !== undefined) {
    return `${field}.${unknownSection} is not allowed: use 'requests' and 'limits'`;
  }

  for (const section of SECTIONS) {
    const problem = resourceListProblem(`${field}.${section}`, value[section]);
    if (problem) {
      return problem;
    }
  }
  return requestAboveLimitProblem(field, value as ResourceRequirements);
}

/**
 * Combines the resources of a runner and of one of its tasks. Each of the four values
 * (requests and limits of cpu and memory) comes from the task when the task sets it, otherwise
 * from the runner. Returns undefined when neither sets any.
 */
export function effectiveResources(
  runner: ResourceRequirements | null | undefined,
  task: ResourceRequirements | null | undefined,
): ResourceRequirements | undefined {
  const result: ResourceRequirements = {};
  for (const section of SECTIONS) {
    const list: ResourceList = {};
    for (const name of RESOURCE_NAMES) {
      const quantity = task?.[section]?.[name] ?? runner?.[section]?.[name];
      if (quantity !== undefined) {
        list[name] = quantity;
      }
    }
    if (Object.keys(list).length > 0) {
      result[section] = list;
    }
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/**
 * Returns a message for each resource whose request exceeds its limit once runner and task
 * resources are combined, because Kubernetes would reject that Job. Returns null when there is none.
 */
export function requestAboveLimitProblem(
  field: string,
  resources: ResourceRequirements | undefined,
): string | null {
  for (const name of RESOURCE_NAMES) {
    const request = resources?.requests?.[name];
    const limit = resources?.limits?.[name];
    if (request === undefined || limit === undefined) {
      continue;
    }
    if (parseQuantity(request)! > parseQuantity(limit)!) {
      return `${field}: request ${name} '${request}' exceeds limit ${name} '${limit}'`;
    }
  }
  return null;
}

/** Stores resources as JSON text; an empty or missing value is stored as null. */
export function serializeResources(
  resources: ResourceRequirements | null | undefined,
): string | null {
  return resources && Object.keys(resources).length > 0 ? JSON.stringify(resources) : null;
}

/** Reads resources stored by serializeResources. */
export function parseResources(text: string | null): ResourceRequirements | null {
  return text === null ? null : (JSON.parse(text) as ResourceRequirements);
}

function resourceListProblem(field: string, value: unknown): string | null {
  if (value === undefined) {
    return null;
  }
  if (!isPlainObject(value)) {
    return `${field} must be an object with 'cpu' and/or 'memory'`;
  }

  for (const [name, quantity] of Object.entries(value)) {
    if (!(RESOURCE_NAMES as readonly string[]).includes(name)) {
      return `${field}.${name} is not allowed: use 'cpu' and 'memory'`;
    }
    if (typeof quantity !== 'string') {
      return `${field}.${name} must be a string such as '500m' or '256Mi'`;
    }
    if (parseQuantity(quantity) === undefined) {
      return (
        `${field}.${name} '${quantity.slice(0, MAX_QUANTITY_LENGTH)}' is not a Kubernetes quantity: ` +
        `use a non-negative number with an optional suffix, such as '500m', '2', '256Mi' or '1G'`
      );
    }
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
