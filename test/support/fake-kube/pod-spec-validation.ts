import { FieldError, type StatusCause } from './status';
import {
  addProblems,
  checkConfigKey,
  checkDns1123Label,
  checkDns1123Subdomain,
  checkEnvVarName,
  checkObjectMeta,
} from './validation';

type Json = Record<string, unknown>;

const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
];

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function checkKeyToPath(items: unknown, field: string, causes: StatusCause[]): void {
  list(items).forEach((item, index) => {
    const itemField = `${field}[${index}]`;
    if (typeof item.key !== 'string' || item.key === '') {
      causes.push(FieldError.required(`${itemField}.key`));
    }
    checkLocalPath(item.path, `${itemField}.path`, causes);
    checkFileMode(item.mode, `${itemField}.mode`, causes);
  });
}

function checkLocalPath(path: unknown, field: string, causes: StatusCause[]): void {
  if (typeof path !== 'string' || path === '') {
    causes.push(FieldError.required(field));
    return;
  }
  if (path.startsWith('/')) {
    causes.push(FieldError.invalid(field, path, 'must be a relative path'));
  }
  if (path.split('/').includes('..')) {
    causes.push(FieldError.invalid(field, path, "must not contain '..'"));
  }
}

function checkFileMode(mode: unknown, field: string, causes: StatusCause[]): void {
  if (typeof mode === 'number' && (mode < 0 || mode > 0o777)) {
    causes.push(
      FieldError.invalid(
        field,
        mode,
        'must be a number between 0 and 0777 (octal), both inclusive',
      ),
    );
  }
}

function checkVolumes(volumes: Json[], field: string, causes: StatusCause[]): Set<string> {
  const names = new Set<string>();
  volumes.forEach((volume, index) => {
    const volumeField = `${field}[${index}]`;
    const name = volume.name;
    if (typeof name !== 'string' || name === '') {
      causes.push(FieldError.required(`${volumeField}.name`));
    } else {
      addProblems(causes, `${volumeField}.name`, name, checkDns1123Label(name));
      if (names.has(name)) {
        causes.push(FieldError.duplicate(`${volumeField}.name`, name));
      }
      names.add(name);
    }

    const sources = VOLUME_SOURCES.filter((source) => volume[source] !== undefined);
    if (sources.length === 0) {
      causes.push(FieldError.required(volumeField, 'must specify a volume type'));
    } else if (sources.length > 1) {
      causes.push(
        FieldError.forbidden(
          `${volumeField}.${sources[1]}`,
          'may not specify more than 1 volume type',
        ),
      );
    }

    const secret = volume.secret as Json | undefined;
    if (secret !== undefined) {
      if (typeof secret.secretName !== 'string' || secret.secretName === '') {
        causes.push(FieldError.required(`${volumeField}.secret.secretName`));
      } else {
        addProblems(
          causes,
          `${volumeField}.secret.secretName`,
          secret.secretName,
          checkDns1123Subdomain(secret.secretName),
        );
      }
      checkKeyToPath(secret.items, `${volumeField}.secret.items`, causes);
      checkFileMode(secret.defaultMode, `${volumeField}.secret.defaultMode`, causes);
    }

    const projected = volume.projected as Json | undefined;
    if (projected !== undefined) {
      checkFileMode(projected.defaultMode, `${volumeField}.projected.defaultMode`, causes);
      const paths = new Set<string>();
      list(projected.sources).forEach((source, sourceIndex) => {
        const sourceField = `${volumeField}.projected.sources[${sourceIndex}]`;
        const kinds = Object.keys(source).filter((key) => source[key] !== undefined);
        if (kinds.length !== 1) {
          causes.push(
            FieldError.forbidden(sourceField, 'may not specify more than 1 volume type per source'),
          );
        }
        const projectedSecret = source.secret as Json | undefined;
        if (projectedSecret !== undefined) {
          if (typeof projectedSecret.name !== 'string' || projectedSecret.name === '') {
            causes.push(FieldError.required(`${sourceField}.secret.name`));
          }
          checkKeyToPath(projectedSecret.items, `${sourceField}.secret.items`, causes);
          list(projectedSecret.items).forEach((item, itemIndex) => {
            if (typeof item.path === 'string') {
              if (paths.has(item.path)) {
                causes.push(
                  FieldError.duplicate(`${sourceField}.secret.items[${itemIndex}].path`, item.path),
                );
              }
              paths.add(item.path);
            }
          });
        }
      });
    }
  });
  return names;
}

function checkEnv(env: Json[], field: string, causes: StatusCause[]): void {
  env.forEach((entry, index) => {
    const entryField = `${field}[${index}]`;
    const name = entry.name;
    if (typeof name !== 'string' || name === '') {
      causes.push(FieldError.required(`${entryField}.name`));
    } else {
      addProblems(causes, `${entryField}.name`, name, checkEnvVarName(name));
    }
    const valueFrom = entry.valueFrom as Json | undefined;
    if (valueFrom === undefined) {
      return;
    }
    const sources = Object.keys(valueFrom).filter((key) => valueFrom[key] !== undefined);
    if (sources.length !== 1) {
      causes.push(
        FieldError.invalid(
          `${entryField}.valueFrom`,
          '',
          'may not have more than one field specified at a time',
        ),
      );
    }
    if (typeof entry.value === 'string' && entry.value !== '') {
      causes.push(
        FieldError.invalid(
          `${entryField}.valueFrom`,
          '',
          'may not be specified when `value` is not empty',
        ),
      );
    }
    const secretKeyRef = valueFrom.secretKeyRef as Json | undefined;
    if (secretKeyRef !== undefined) {
      if (typeof secretKeyRef.key !== 'string' || secretKeyRef.key === '') {
        causes.push(FieldError.required(`${entryField}.valueFrom.secretKeyRef.key`));
      } else {
        addProblems(
          causes,
          `${entryField}.valueFrom.secretKeyRef.key`,
          secretKeyRef.key,
          checkConfigKey(secretKeyRef.key),
        );
      }
    }
    const fieldRef = valueFrom.fieldRef as Json | undefined;
    if (fieldRef !== undefined && typeof fieldRef.fieldPath === 'string') {
      const supported = [
        'metadata.name',
        'metadata.namespace',
        'metadata.uid',
        'spec.nodeName',
        'spec.serviceAccountName',
        'status.hostIP',
        'status.hostIPs',
        'status.podIP',
        'status.podIPs',
      ];
      const path = fieldRef.fieldPath;
      if (!supported.includes(path) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(path)) {
        causes.push(
          FieldError.notSupported(`${entryField}.valueFrom.fieldRef.fieldPath`, path, [
            'metadata.annotations',
            'metadata.labels',
            ...supported,
          ]),
        );
      }
    }
  });
}

function checkEnvFrom(envFrom: Json[], field: string, causes: StatusCause[]): void {
  envFrom.forEach((entry, index) => {
    const entryField = `${field}[${index}]`;
    if (typeof entry.prefix === 'string' && entry.prefix !== '') {
      addProblems(causes, `${entryField}.prefix`, entry.prefix, checkEnvVarName(entry.prefix));
    }
    const refs = ['configMapRef', 'secretRef'].filter((key) => entry[key] !== undefined);
    if (refs.length === 0) {
      causes.push(
        FieldError.invalid(entryField, '', 'must specify one of: `configMapRef` or `secretRef`'),
      );
    } else if (refs.length > 1) {
      causes.push(
        FieldError.invalid(entryField, '', 'may not have more than one field specified at a time'),
      );
    }
    for (const ref of refs) {
      const name = (entry[ref] as Json).name;
      if (typeof name !== 'string' || name === '') {
        causes.push(FieldError.required(`${entryField}.${ref}.name`));
      }
    }
  });
}

function checkContainer(
  container: Json,
  field: string,
  volumeNames: Set<string>,
  containerNames: Set<string>,
  causes: StatusCause[],
): void {
  const name = container.name;
  if (typeof name !== 'string' || name === '') {
    causes.push(FieldError.required(`${field}.name`));
  } else {
    addProblems(causes, `${field}.name`, name, checkDns1123Label(name));
    if (containerNames.has(name)) {
      causes.push(FieldError.duplicate(`${field}.name`, name));
    }
    containerNames.add(name);
  }
  if (typeof container.image !== 'string' || container.image.trim() === '') {
    causes.push(FieldError.required(`${field}.image`));
  }

  const mountPaths = new Set<string>();
  list(container.volumeMounts).forEach((mount, index) => {
    const mountField = `${field}.volumeMounts[${index}]`;
    if (typeof mount.name !== 'string' || mount.name === '') {
      causes.push(FieldError.required(`${mountField}.name`));
    } else if (!volumeNames.has(mount.name)) {
      causes.push(FieldError.notFound(`${mountField}.name`, mount.name));
    }
    if (typeof mount.mountPath !== 'string' || mount.mountPath === '') {
      causes.push(FieldError.required(`${mountField}.mountPath`));
    } else {
      if (mountPaths.has(mount.mountPath)) {
        causes.push(
          FieldError.invalid(`${mountField}.mountPath`, mount.mountPath, 'must be unique'),
        );
      }
      mountPaths.add(mount.mountPath);
    }
    if (typeof mount.subPath === 'string') {
      if (mount.subPath.startsWith('/')) {
        causes.push(
          FieldError.invalid(`${mountField}.subPath`, mount.subPath, 'must be a relative path'),
        );
      }
    }
  });

  checkEnv(list(container.env), `${field}.env`, causes);
  checkEnvFrom(list(container.envFrom), `${field}.envFrom`, causes);

  const policy = container.imagePullPolicy;
  if (policy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(String(policy))) {
    causes.push(
      FieldError.notSupported(`${field}.imagePullPolicy`, policy, [
        'Always',
        'IfNotPresent',
        'Never',
      ]),
    );
  }
}

/**
 * Validates a pod template as the API server does for a Job: object metadata, volumes,
 * containers (names unique across init and app containers, images present, mounts naming
 * volumes that exist), environment and the Job-specific restart policy.
 */
export function checkJobPodTemplate(template: Json, field: string, causes: StatusCause[]): void {
  const meta = (template.metadata ?? {}) as Json;
  checkObjectMeta(meta, checkDns1123Subdomain, causes, `${field}.metadata`);

  const spec = (template.spec ?? {}) as Json;
  const specField = `${field}.spec`;
  const volumeNames = checkVolumes(list(spec.volumes), `${specField}.volumes`, causes);

  const containerNames = new Set<string>();
  list(spec.initContainers).forEach((container, index) =>
    checkContainer(
      container,
      `${specField}.initContainers[${index}]`,
      volumeNames,
      containerNames,
      causes,
    ),
  );
  const containers = list(spec.containers);
  if (containers.length === 0) {
    causes.push(FieldError.required(`${specField}.containers`));
  }
  containers.forEach((container, index) =>
    checkContainer(
      container,
      `${specField}.containers[${index}]`,
      volumeNames,
      containerNames,
      causes,
    ),
  );

  const restartPolicy = spec.restartPolicy;
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    causes.push(
      FieldError.notSupported(`${specField}.restartPolicy`, restartPolicy, ['OnFailure', 'Never']),
    );
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(
      FieldError.invalid(
        `${specField}.activeDeadlineSeconds`,
        spec.activeDeadlineSeconds,
        'must be between 1 and 2147483647, inclusive',
      ),
    );
  }
}
