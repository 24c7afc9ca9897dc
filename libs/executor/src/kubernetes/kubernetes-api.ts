import { KubeHttp, KubernetesApiError } from './kube-http';
import type { Job, ObjectList, Pod, WatchEvent } from './kubernetes-types';
import { JOB_ID_LABEL, MANAGED_BY_SELECTOR } from './job-spec';

/** Seconds after which the server ends a watch; the watcher then resumes where it was. */
const WATCH_TIMEOUT_SECONDS = 300;

/** One permission that the executor needs, as a SelfSubjectAccessReview checks it. */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** The calls the kubernetes executor makes, all in one namespace and on Kriten's objects only. */
export class KubernetesApi {
  private readonly jobsPath: string;
  private readonly podsPath: string;

  constructor(
    readonly http: KubeHttp,
    readonly namespace: string,
  ) {
    const encoded = encodeURIComponent(namespace);
    this.jobsPath = `/apis/batch/v1/namespaces/${encoded}/jobs`;
    this.podsPath = `/api/v1/namespaces/${encoded}/pods`;
  }

  createJob(manifest: object): Promise<Job> {
    return this.http.requestJson<Job>('POST', this.jobsPath, manifest);
  }

  /** Deletes a Job with its pods; false when it did not exist. */
  async deleteJob(name: string): Promise<boolean> {
    try {
      await this.http.requestJson('DELETE', `${this.jobsPath}/${encodeURIComponent(name)}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
      });
      return true;
    } catch (error) {
      if (error instanceof KubernetesApiError && error.statusCode === 404) {
        return false;
      }
      throw error;
    }
  }

  listJobs(): Promise<ObjectList<Job>> {
    return this.http.requestJson('GET', this.jobsPath, undefined, {
      labelSelector: MANAGED_BY_SELECTOR,
    });
  }

  watchJobs(
    resourceVersion: string,
    onEvent: (event: WatchEvent<Job>) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    return this.http.watch(this.jobsPath, watchQuery(resourceVersion), signal, onEvent, onOpen);
  }

  listPods(): Promise<ObjectList<Pod>> {
    return this.http.requestJson('GET', this.podsPath, undefined, {
      labelSelector: MANAGED_BY_SELECTOR,
    });
  }

  /** Lists the pods of one job, for the rare end of a job whose pod no watch event showed yet. */
  listPodsOfJob(jobId: string): Promise<ObjectList<Pod>> {
    return this.http.requestJson('GET', this.podsPath, undefined, {
      labelSelector: `${MANAGED_BY_SELECTOR},${JOB_ID_LABEL}=${jobId}`,
    });
  }

  watchPods(
    resourceVersion: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    return this.http.watch(this.podsPath, watchQuery(resourceVersion), signal, onEvent, onOpen);
  }

  /** Streams a container's log as bytes; with follow, until the container ends. */
  streamLog(
    pod: string,
    container: string,
    follow: boolean,
    signal: AbortSignal,
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    // A followed log may stay silent as long as the container does.
    return this.http.stream(
      `${this.podsPath}/${encodeURIComponent(pod)}/log`,
      { container, follow },
      signal,
      onChunk,
      undefined,
      !follow,
    );
  }

  /** Asks the API server whether Kriten's own identity may do something in the namespace. */
  async mayI(permission: Permission): Promise<{ allowed: boolean; reason?: string }> {
    const review = await this.http.requestJson<{
      status?: { allowed?: boolean; reason?: string };
    }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          namespace: this.namespace,
          verb: permission.verb,
          group: permission.group,
          resource: permission.resource,
          ...(permission.subresource !== undefined && { subresource: permission.subresource }),
        },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }
}

function watchQuery(resourceVersion: string): Record<string, string | number | boolean> {
  return {
    labelSelector: MANAGED_BY_SELECTOR,
    resourceVersion,
    allowWatchBookmarks: true,
    timeoutSeconds: WATCH_TIMEOUT_SECONDS,
  };
}

/** `jobs.batch`, `pods/log`: a permission as kubectl and RBAC messages write it. */
export function describePermission(permission: Permission): string {
  const resource = permission.subresource
    ? `${permission.resource}/${permission.subresource}`
    : permission.resource;
  return permission.group === '' ? resource : `${resource}.${permission.group}`;
}
