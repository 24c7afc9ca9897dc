import { expandReferences } from './expansion';
import type { Json } from './store';

/** The Secrets of a namespace as the kubelet reads them: name to decoded data, or undefined. */
export type SecretLookup = (name: string) => Record<string, Buffer> | undefined;

/** Why a container cannot be created yet: the kubelet's CreateContainerConfigError message. */
export class ContainerConfigError extends Error {}

/** Variables that a container image defines; a fake container's image is this host. */
export const IMAGE_ENVIRONMENT: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

function fieldValue(pod: Json, fieldPath: string): string {
  const meta = pod.metadata as Json;
  const spec = pod.spec as Json;
  const status = (pod.status ?? {}) as Json;
  const mapMatch = fieldPath.match(/^metadata\.(labels|annotations)\['([^']+)'\]$/);
  if (mapMatch !== null) {
    return String(((meta[mapMatch[1]] ?? {}) as Json)[mapMatch[2]] ?? '');
  }
  const values: Record<string, unknown> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace,
    'metadata.uid': meta.uid,
    'spec.nodeName': spec.nodeName,
    'spec.serviceAccountName': spec.serviceAccountName,
    'status.hostIP': status.hostIP,
    'status.hostIPs': status.hostIP,
    'status.podIP': status.podIP,
    'status.podIPs': status.podIP,
  };
  return String(values[fieldPath] ?? '');
}

export interface ContainerEnvironment {
  /** Everything the process receives. */
  environment: Record<string, string>;
  /** Only the variables the pod spec defines, which command and args may reference. */
  variables: Record<string, string>;
}

/**
 * Builds a container's environment as the kubelet's makeEnvironmentVariables does: envFrom
 * sources first, in order, then env entries in order, later names replacing earlier ones.
 * Only literal `value`s are expanded, against the variables defined before them. The image's
 * variables (PATH) and HOSTNAME are underneath, as the container runtime adds them.
 */
export function buildContainerEnvironment(
  pod: Json,
  container: Json,
  secrets: SecretLookup,
): ContainerEnvironment {
  const defined = new Map<string, string>();
  const namespace = String((pod.metadata as Json).namespace);

  for (const source of (container.envFrom as Json[] | undefined) ?? []) {
    const prefix = String(source.prefix ?? '');
    const secretRef = source.secretRef as Json | undefined;
    const configMapRef = source.configMapRef as Json | undefined;
    if (configMapRef !== undefined) {
      if (configMapRef.optional === true) {
        continue;
      }
      throw new ContainerConfigError(`configmap "${String(configMapRef.name)}" not found`);
    }
    if (secretRef === undefined) {
      continue;
    }
    const data = secrets(String(secretRef.name));
    if (data === undefined) {
      if (secretRef.optional === true) {
        continue;
      }
      throw new ContainerConfigError(`secret "${String(secretRef.name)}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      defined.set(`${prefix}${key}`, value.toString('utf8'));
    }
  }

  const lookup = (name: string): string | undefined => defined.get(name);
  for (const entry of (container.env as Json[] | undefined) ?? []) {
    const name = String(entry.name);
    const valueFrom = entry.valueFrom as Json | undefined;
    if (valueFrom === undefined) {
      defined.set(name, expandReferences(String(entry.value ?? ''), lookup));
      continue;
    }
    const secretKeyRef = valueFrom.secretKeyRef as Json | undefined;
    const fieldRef = valueFrom.fieldRef as Json | undefined;
    const configMapKeyRef = valueFrom.configMapKeyRef as Json | undefined;
    if (secretKeyRef !== undefined) {
      const secretName = String(secretKeyRef.name);
      const key = String(secretKeyRef.key);
      const data = secrets(secretName);
      if (data === undefined) {
        if (secretKeyRef.optional === true) {
          continue;
        }
        throw new ContainerConfigError(`secret "${secretName}" not found`);
      }
      if (data[key] === undefined) {
        if (secretKeyRef.optional === true) {
          continue;
        }
        throw new ContainerConfigError(
          `couldn't find key ${key} in Secret ${namespace}/${secretName}`,
        );
      }
      defined.set(name, data[key].toString('utf8'));
    } else if (fieldRef !== undefined) {
      defined.set(name, fieldValue(pod, String(fieldRef.fieldPath)));
    } else if (configMapKeyRef !== undefined) {
      if (configMapKeyRef.optional === true) {
        continue;
      }
      throw new ContainerConfigError(`configmap "${String(configMapKeyRef.name)}" not found`);
    }
  }

  // Without a prototype, a variable named __proto__ is stored as a plain key.
  const environment: Record<string, string> = Object.create(null);
  Object.assign(environment, IMAGE_ENVIRONMENT);
  environment.HOSTNAME = String((pod.metadata as Json).name);
  environment.HOME = '/root';
  const variables: Record<string, string> = Object.create(null);
  for (const [name, value] of defined) {
    environment[name] = value;
    variables[name] = value;
  }
  return { environment, variables };
}

/**
 * Builds the argv of a container: `command` replaces the image's entrypoint and `args` follow,
 * both expanded against the variables that the pod spec defines (not the image's own).
 */
export function buildContainerArgv(container: Json, variables: Record<string, string>): string[] {
  const lookup = (name: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(variables, name) ? variables[name] : undefined;
  const command = ((container.command as string[] | undefined) ?? []).map((part) =>
    expandReferences(part, lookup),
  );
  const args = ((container.args as string[] | undefined) ?? []).map((part) =>
    expandReferences(part, lookup),
  );
  return [...command, ...args];
}
