import { PassThrough } from 'node:stream';

/**
 * Drives the fake with @kubernetes/client-node, which Jest cannot load because it is
 * ESM-only, so a test runs this file with `node --import tsx`. Arguments: kubeconfig path and
 * a file:// repository URL. Prints one JSON summary line on stdout.
 */
async function main(): Promise<void> {
  const [kubeconfigPath, repositoryUrl] = process.argv.slice(2);
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const namespace = config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);

  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'runner-check' }, stringData: { api_key: 's3cr3t' } },
  });
  const patched = await core.patchNamespacedSecret({
    namespace,
    name: 'runner-check',
    body: [{ op: 'add', path: '/data/region', value: Buffer.from('eu').toString('base64') }],
  });

  const watchEvents: string[] = [];
  let complete: () => void = () => undefined;
  const completed = new Promise<void>((resolve) => (complete = resolve));
  const watch = new k8s.Watch(config);
  const watchRequest = await watch.watch(
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    { allowWatchBookmarks: true, labelSelector: 'kriten.io/task=check' },
    (type: string, object: { status?: { conditions?: Array<{ type: string }> } }) => {
      watchEvents.push(type);
      if ((object.status?.conditions ?? []).some((condition) => condition.type === 'Complete')) {
        complete();
      }
    },
    () => undefined,
  );

  const workMount = { name: 'work', mountPath: '/workspace' };
  await batch.createNamespacedJob({
    namespace,
    body: {
      metadata: { name: 'check-abcde', labels: { 'kriten.io/task': 'check' } },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 60,
        ttlSecondsAfterFinished: 300,
        template: {
          metadata: { labels: { 'kriten.io/task': 'check' } },
          spec: {
            restartPolicy: 'Never',
            initContainers: [
              {
                name: 'clone',
                image: 'alpine/git:2.45.2',
                command: ['git', 'clone', '-q', '--depth', '1', repositoryUrl, '/workspace/src'],
                volumeMounts: [workMount],
              },
            ],
            containers: [
              {
                name: 'task',
                image: 'python:3.12',
                command: ['/bin/sh', '-c', 'sh run.sh'],
                workingDir: '/workspace/src',
                env: [{ name: 'EXTRA_VARS', value: '{"a":"$$(b)"}' }],
                envFrom: [{ secretRef: { name: 'runner-check' } }],
                volumeMounts: [workMount],
              },
            ],
            volumes: [{ name: 'work', emptyDir: {} }],
          },
        },
      },
    },
  });
  await completed;

  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=check-abcde' });
  const podName = pods.items[0].metadata?.name as string;
  const log = await core.readNamespacedPodLog({ namespace, name: podName, container: 'task' });
  const stream = new PassThrough();
  let followed = '';
  stream.on('data', (chunk: Buffer) => (followed += chunk.toString('utf8')));
  const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  await new k8s.Log(config).log(namespace, podName, 'task', stream, { follow: true });
  await ended;

  await batch.deleteNamespacedJob({
    namespace,
    name: 'check-abcde',
    propagationPolicy: 'Background',
  });
  let readAfterDelete = 0;
  try {
    await batch.readNamespacedJob({ namespace, name: 'check-abcde' });
  } catch (error) {
    readAfterDelete = (error as { code: number }).code;
  }
  watchRequest.abort();

  const summary = {
    secretKeys: Object.keys(patched.data ?? {}).sort(),
    watchEvents: [...new Set(watchEvents)].sort(),
    log,
    followed,
    readAfterDelete,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`client-node check failed: ${String(error)}\n`);
  process.exit(1);
});
