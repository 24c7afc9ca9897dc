import { checkJobPodTemplate } from './pod-spec-validation';
import { checkSchema } from './schema';
import { ApiError, FieldError, badRequest, type ResourceRef, type StatusCause } from './status';
import type { Json } from './store';
import {
  addProblems,
  checkConfigKey,
  checkDns1123Subdomain,
  checkLabels,
  checkObjectMeta,
} from './validation';

export interface ResourceType extends ResourceRef {
  apiVersion: string;
  listKind: string;
  /** Field selectors that the real server accepts for this resource. */
  fieldLabels: string[];
}

export const JOBS: ResourceType = {
  group: 'batch',
  resource: 'jobs',
  kind: 'Job',
  apiVersion: 'batch/v1',
  listKind: 'JobList',
  fieldLabels: ['metadata.name', 'metadata.namespace', 'status.successful'],
};

export const PODS: ResourceType = {
  group: '',
  resource: 'pods',
  kind: 'Pod',
  apiVersion: 'v1',
  listKind: 'PodList',
  fieldLabels: [
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
};

export const SECRETS: ResourceType = {
  group: '',
  resource: 'secrets',
  kind: 'Secret',
  apiVersion: 'v1',
  listKind: 'SecretList',
  fieldLabels: ['metadata.name', 'metadata.namespace', 'type'],
};

export const NAMESPACES: ResourceType = {
  group: '',
  resource: 'namespaces',
  kind: 'Namespace',
  apiVersion: 'v1',
  listKind: 'NamespaceList',
  fieldLabels: ['metadata.name'],
};

export const SELF_SUBJECT_ACCESS_REVIEWS: ResourceType = {
  group: 'authorization.k8s.io',
  resource: 'selfsubjectaccessreviews',
  kind: 'SelfSubjectAccessReview',
  apiVersion: 'authorization.k8s.io/v1',
  listKind: 'SelfSubjectAccessReviewList',
  fieldLabels: [],
};

const MAX_SECRET_BYTES = 1024 * 1024;

/** Field values that a field selector can test, e.g. metadata.name and status.phase. */
export function fieldValues(object: Json): Record<string, string> {
  const meta = object.metadata as Json;
  const spec = (object.spec ?? {}) as Json;
  const status = (object.status ?? {}) as Json;
  const values: Record<string, string> = {
    'metadata.name': String(meta.name),
    'metadata.namespace': String(meta.namespace),
  };
  if (object.kind === 'Pod') {
    values['spec.nodeName'] = String(spec.nodeName ?? '');
    values['spec.restartPolicy'] = String(spec.restartPolicy ?? '');
    values['spec.schedulerName'] = String(spec.schedulerName ?? '');
    values['spec.serviceAccountName'] = String(spec.serviceAccountName ?? '');
    values['status.phase'] = String(status.phase ?? '');
    values['status.podIP'] = String(status.podIP ?? '');
    values['status.nominatedNodeName'] = '';
  }
  if (object.kind === 'Secret') {
    values.type = String(object.type ?? '');
  }
  if (object.kind === 'Job') {
    values['status.successful'] = String(status.succeeded ?? 0);
  }
  return values;
}

/** Checks the apiVersion and kind of a request body against the URL's resource. */
export function checkTypeMeta(body: Json, type: ResourceType): void {
  if (body.kind !== undefined && body.kind !== type.kind) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${type.apiVersion})`,
    );
  }
  if (body.apiVersion !== undefined && body.apiVersion !== type.apiVersion) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${type.apiVersion})`,
    );
  }
}

function imagePullPolicyFor(image: unknown): string {
  if (typeof image !== 'string') {
    return 'IfNotPresent';
  }
  const lastPart = image.split('/').pop() as string;
  if (image.includes('@')) {
    return 'IfNotPresent';
  }
  const tag = lastPart.includes(':') ? lastPart.split(':').pop() : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Applies the defaults of SetDefaults_PodSpec and SetDefaults_Container to a pod spec. */
export function defaultPodSpec(spec: Json): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.enableServiceLinks ??= true;
  const containers = [
    ...((spec.initContainers as Json[] | undefined) ?? []),
    ...((spec.containers as Json[] | undefined) ?? []),
  ];
  for (const container of containers) {
    if (container === null || typeof container !== 'object') {
      continue;
    }
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    container.imagePullPolicy ??= imagePullPolicyFor(container.image);
    container.resources ??= {};
    for (const entry of (container.env as Json[] | undefined) ?? []) {
      const fieldRef = (entry?.valueFrom as Json | undefined)?.fieldRef as Json | undefined;
      if (fieldRef !== undefined) {
        fieldRef.apiVersion ??= 'v1';
      }
    }
  }
  for (const volume of (spec.volumes as Json[] | undefined) ?? []) {
    if (volume?.secret !== undefined) {
      (volume.secret as Json).defaultMode ??= 0o644;
    }
    if (volume?.projected !== undefined) {
      (volume.projected as Json).defaultMode ??= 0o644;
    }
  }
}

/**
 * Validates a Job from a create request and fills what the server fills: defaults, the
 * generated selector and the controller-uid and job-name labels of the pod template. Schema
 * causes come first and are reported separately, as violations of the OpenAPI schema.
 */
export function prepareJob(
  job: Json,
  uid: string,
): { schema: StatusCause[]; causes: StatusCause[] } {
  const schema = checkSchema('Job', job);
  if (schema.length > 0) {
    return { schema, causes: [] };
  }
  const meta = job.metadata as Json;
  const spec = job.spec as Json;
  const template = spec.template as Json;
  template.metadata ??= {};
  template.spec ??= {};
  const templateMeta = template.metadata as Json;

  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  if (spec.podFailurePolicy === undefined) {
    spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  }
  defaultPodSpec(template.spec as Json);
  if (meta.labels === undefined && templateMeta.labels !== undefined) {
    meta.labels = { ...(templateMeta.labels as Json) };
  }

  const causes: StatusCause[] = [];
  checkObjectMeta(meta, checkDns1123Subdomain, causes);
  const name = String(meta.name ?? '');
  if (spec.manualSelector !== true) {
    if (spec.selector !== undefined) {
      causes.push(
        FieldError.invalid('spec.selector', spec.selector, '`selector` will be auto-generated'),
      );
    }
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    templateMeta.labels = {
      ...((templateMeta.labels as Json | undefined) ?? {}),
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
  }
  checkLabels(templateMeta.labels, 'spec.template.metadata.labels', causes);
  checkJobPodTemplate(template, 'spec.template', causes);
  for (const field of [
    'backoffLimit',
    'parallelism',
    'completions',
    'ttlSecondsAfterFinished',
  ] as const) {
    const value = spec[field];
    if (typeof value === 'number' && value < 0) {
      causes.push(FieldError.invalid(`spec.${field}`, value, 'must be greater than or equal to 0'));
    }
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(
      FieldError.invalid(
        'spec.activeDeadlineSeconds',
        spec.activeDeadlineSeconds,
        'must be greater than 0',
      ),
    );
  }
  return { schema, causes };
}

/** Fields of a Job's spec that an update may not change (ValidateJobSpecUpdate). */
const IMMUTABLE_JOB_FIELDS = [
  'selector',
  'template',
  'completions',
  'completionMode',
  'manualSelector',
  'podFailurePolicy',
  'backoffLimitPerIndex',
];

/**
 * Validates a Job from a replace or patch: the schema, the defaults and metadata as on create,
 * and the fields that must not change. Status and server-owned metadata are taken from the
 * stored Job, and generation goes up when the spec changed.
 */
export function prepareJobUpdate(
  current: Json,
  next: Json,
): { schema: StatusCause[]; causes: StatusCause[] } {
  next.status = current.status;
  const schema = checkSchema('Job', next);
  if (schema.length > 0) {
    return { schema, causes: [] };
  }
  const spec = (next.spec ?? {}) as Json;
  next.spec = spec;
  const currentSpec = current.spec as Json;
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.selector ??= currentSpec.selector;
  if (spec.podFailurePolicy === undefined) {
    spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  }
  const template = (spec.template ?? {}) as Json;
  template.spec ??= {};
  defaultPodSpec(template.spec as Json);

  const causes: StatusCause[] = [];
  checkObjectMeta(next.metadata as Json, checkDns1123Subdomain, causes);
  for (const field of IMMUTABLE_JOB_FIELDS) {
    if (JSON.stringify(spec[field]) !== JSON.stringify(currentSpec[field])) {
      causes.push(FieldError.invalid(`spec.${field}`, spec[field] ?? null, 'field is immutable'));
    }
  }
  for (const field of ['backoffLimit', 'parallelism', 'ttlSecondsAfterFinished'] as const) {
    const value = spec[field];
    if (typeof value === 'number' && value < 0) {
      causes.push(FieldError.invalid(`spec.${field}`, value, 'must be greater than or equal to 0'));
    }
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(
      FieldError.invalid(
        'spec.activeDeadlineSeconds',
        spec.activeDeadlineSeconds,
        'must be greater than 0',
      ),
    );
  }
  const meta = next.metadata as Json;
  const currentMeta = current.metadata as Json;
  meta.generation =
    JSON.stringify(spec) === JSON.stringify(currentSpec)
      ? currentMeta.generation
      : Number(currentMeta.generation ?? 1) + 1;
  return { schema, causes };
}

/** Decodes base64 as Go's encoding/json does for []byte: standard alphabet, padded, newlines skipped. */
export function decodeBase64(text: string): Buffer {
  const stripped = text.replace(/[\r\n]/g, '');
  const invalidAt = stripped.search(/[^A-Za-z0-9+/=]/);
  const paddingAt = stripped.indexOf('=');
  const badPadding =
    paddingAt !== -1 &&
    (!/^=+$/.test(stripped.slice(paddingAt)) || stripped.length - paddingAt > 2);
  if (invalidAt !== -1 || badPadding || stripped.length % 4 !== 0) {
    const at =
      invalidAt !== -1
        ? invalidAt
        : paddingAt !== -1 && badPadding
          ? paddingAt
          : stripped.length - (stripped.length % 4);
    throw badRequest(
      `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`,
    );
  }
  return Buffer.from(stripped, 'base64');
}

/**
 * Validates a Secret from a create, replace or patch and merges stringData into data, which
 * the server never returns. Returns schema causes and validation causes separately.
 */
export function prepareSecret(secret: Json): { schema: StatusCause[]; causes: StatusCause[] } {
  // The server decodes base64 while it reads the body, before any validation, and rejects invalid data with 400.
  if (secret.data !== null && typeof secret.data === 'object') {
    for (const value of Object.values(secret.data as Json)) {
      if (typeof value === 'string') {
        decodeBase64(value);
      }
    }
  }
  const schema = checkSchema('Secret', secret);
  if (schema.length > 0) {
    return { schema, causes: [] };
  }
  const data: Record<string, string> = {
    ...((secret.data as Record<string, string> | undefined) ?? {}),
  };
  for (const [key, value] of Object.entries(
    (secret.stringData as Record<string, string> | undefined) ?? {},
  )) {
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  delete secret.stringData;
  for (const [key, value] of Object.entries(data)) {
    if (value === null) {
      delete data[key];
    }
  }
  if (Object.keys(data).length > 0 || secret.data !== undefined) {
    secret.data = data;
  }
  secret.type ??= 'Opaque';

  const causes: StatusCause[] = [];
  checkObjectMeta(secret.metadata as Json, checkDns1123Subdomain, causes);
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    addProblems(causes, `data[${key}]`, key, checkConfigKey(key));
    total += Buffer.from(value, 'base64').length;
  }
  if (total > MAX_SECRET_BYTES) {
    causes.push(FieldError.tooLong('data', MAX_SECRET_BYTES));
  }
  return { schema, causes };
}

/** Returns the changes that the server forbids on a Secret: its type, and anything once immutable. */
export function checkSecretUpdate(previous: Json, next: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  if (previous.type !== next.type) {
    causes.push(FieldError.invalid('type', next.type, 'field is immutable'));
  }
  if (previous.immutable !== true) {
    return causes;
  }
  if (JSON.stringify(previous.data ?? {}) !== JSON.stringify(next.data ?? {})) {
    causes.push(FieldError.forbidden('data', 'field is immutable when `immutable` is set'));
  }
  if (next.immutable !== true) {
    causes.push(FieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  }
  return causes;
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
