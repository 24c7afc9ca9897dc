import type { FakeKube } from './fake-kube';

/** An object as the Kubernetes API returns it. */
export type KubeObject = Record<string, any>;

/** Decodes the `data` of a Secret stored in the fake API server; undefined when it does not exist. */
export function readSecretValues(fake: FakeKube, name: string): Record<string, string> | undefined {
  const secret = fake.getObject('secrets', name) as KubeObject | undefined;
  if (secret === undefined) {
    return undefined;
  }
  return Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

/** Lists the names of the Secrets in the fake API server that carry a label with a value. */
export function secretNamesLabelled(fake: FakeKube, label: string, value: string): string[] {
  return (fake.listObjects('secrets') as KubeObject[])
    .filter((secret) => secret.metadata.labels?.[label] === value)
    .map((secret) => secret.metadata.name as string)
    .sort();
}

/**
 * Creates a Secret through the fake API server's HTTP API, as a save whose database write
 * failed after its Secret was written would leave one.
 */
export async function createSecret(
  fake: FakeKube,
  name: string,
  values: Record<string, string>,
): Promise<void> {
  const data = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  const response = await fetch(`${fake.url}/api/v1/namespaces/${fake.namespace}/secrets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.token}` },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data }),
  });
  if (!response.ok) {
    throw new Error(
      `creating Secret '${name}' failed with ${response.status}: ${await response.text()}`,
    );
  }
}

/**
 * Replaces the values of an existing Secret through the fake API server's HTTP API, keeping
 * its labels, as a save whose database write failed after its Secret was written leaves it.
 */
export async function replaceSecretValues(
  fake: FakeKube,
  name: string,
  values: Record<string, string>,
): Promise<void> {
  const secret = fake.getObject('secrets', name) as KubeObject | undefined;
  if (secret === undefined) {
    throw new Error(`Secret '${name}' not found in the fake API server`);
  }
  const data = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  const response = await fetch(`${fake.url}/api/v1/namespaces/${fake.namespace}/secrets/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.token}` },
    body: JSON.stringify({ ...secret, data }),
  });
  if (!response.ok) {
    throw new Error(
      `replacing Secret '${name}' failed with ${response.status}: ${await response.text()}`,
    );
  }
}
