import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { GarbageCollector } from './garbage-collector';
import { parseJson, readBody, routeOf, verbOf, withoutTypeMeta, type Route } from './http-routing';
import { JobController, generateName } from './job-controller';
import { Kubelet } from './kubelet';
import { matchesSelectors, selectorsOf } from './object-filter';
import { applyJsonPatch, applyMergePatch, PATCH_TYPES } from './patch';
import { servePodLog } from './pod-logs';
import {
  checkSecretUpdate,
  checkTypeMeta,
  JOBS,
  NAMESPACES,
  PODS,
  prepareJob,
  prepareJobUpdate,
  prepareSecret,
  SECRETS,
  SELF_SUBJECT_ACCESS_REVIEWS,
  type ResourceType,
} from './resources';
import { checkSchema } from './schema';
import { ScenarioRegistry } from './scenarios';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  FieldError,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  pathNotFound,
  type StatusCause,
  unauthorized,
} from './status';
import { kubeTime, metadataOf, ObjectStore, type Json } from './store';
import { serveWatch } from './watch-stream';

/** One request as the fake API server saw it, for counting API calls. */
export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The Kubernetes request verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The HTTP status code of the response. */
  code: number;
}

/** An object that a client sent and that breaks the Kubernetes OpenAPI schema. */
export interface RecordedViolation {
  method: string;
  path: string;
  kind: string;
  name: string;
  causes: StatusCause[];
}

/** A permission that the fake's authorizer denies; absent fields match anything. */
export interface DeniedPermission {
  verb?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
}

export interface ServerSettings {
  namespaces: string[];
  user: string;
  bookmarkIntervalMilliseconds: number;
  defaultWatchTimeoutSeconds: number;
  historyLimit: number;
  podBackoffMilliseconds: number;
  retryMilliseconds: number;
  maxGraceMilliseconds: number;
  restartBackoffMilliseconds: number;
  stateDir: string;
  bwrapPath: string;
  sharedHostPaths: string[];
  /** PEM key and certificate to serve HTTPS with; plain HTTP when absent. */
  tls?: { key: string; cert: string };
}

/** The HTTP side of the fake: routing, authentication, authorization, CRUD, watches and logs. */
export class FakeApiServer {
  readonly store: ObjectStore;
  readonly scenarios = new ScenarioRegistry();
  readonly kubelet: Kubelet;
  readonly controller: JobController;
  readonly garbageCollector: GarbageCollector;
  readonly calls: RecordedCall[] = [];
  readonly violations: RecordedViolation[] = [];
  readonly tokens = new Set<string>();
  readonly denied: DeniedPermission[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<ServerResponse>();
  private expireNextWatches = 0;

  constructor(private readonly settings: ServerSettings) {
    this.store = new ObjectStore(settings.historyLimit);
    this.kubelet = new Kubelet(this.store, this.scenarios, {
      bwrapPath: settings.bwrapPath,
      stateDir: settings.stateDir,
      nodeName: 'fake-node',
      retryMilliseconds: settings.retryMilliseconds,
      maxGraceMilliseconds: settings.maxGraceMilliseconds,
      restartBackoffMilliseconds: settings.restartBackoffMilliseconds,
      sharedHostPaths: settings.sharedHostPaths,
    });
    this.garbageCollector = new GarbageCollector(this.store, (namespace, name) =>
      this.deletePod(namespace, name),
    );
    this.controller = new JobController(
      this.store,
      {
        createPod: (namespace, pod) => this.createPod(namespace, pod),
        deletePod: (namespace, name, graceSeconds) =>
          void this.deletePod(namespace, name, graceSeconds),
        deleteJob: (namespace, name, policy) => void this.deleteJob(namespace, name, policy),
      },
      { podBackoffMilliseconds: settings.podBackoffMilliseconds },
    );
    for (const namespace of settings.namespaces) {
      this.store.create('namespaces', '', {
        kind: 'Namespace',
        apiVersion: 'v1',
        metadata: { name: namespace, labels: { 'kubernetes.io/metadata.name': namespace } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch((error: unknown) => {
        const apiError =
          error instanceof ApiError
            ? error
            : new ApiError(500, 'InternalError', `fake-kube failed: ${String(error)}`);
        if (!response.headersSent) {
          this.send(response, apiError.code, apiError.toStatus());
        } else {
          response.destroy();
        }
      });
    };
    this.server =
      settings.tls === undefined
        ? createServer(listener)
        : createHttpsServer(settings.tls, listener);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  async close(): Promise<void> {
    this.controller.stop();
    for (const watch of this.watches) {
      watch.destroy();
    }
    await this.kubelet.stopAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) {
        socket.destroy();
      }
    });
  }

  /** Closes the socket of every open watch in the middle of its stream. */
  dropWatches(): void {
    for (const watch of this.watches) {
      watch.socket?.destroy();
      watch.destroy();
    }
    this.watches.clear();
  }

  /** Makes the next watches fail with 410 Expired, whatever resourceVersion they ask for. */
  expireNextWatch(count = 1): void {
    this.expireNextWatches += count;
  }

  createPod(namespace: string, pod: Json): Json {
    // A generated name that is taken gets a new suffix, as the server retries generateName.
    const meta = metadataOf(pod);
    while (
      typeof meta.generateName === 'string' &&
      this.store.get('pods', namespace, String(meta.name)) !== undefined
    ) {
      meta.name = generateName(meta.generateName);
    }
    const created = this.store.create('pods', namespace, pod);
    this.kubelet.startPod(created);
    return created;
  }

  /**
   * Deletes a pod gracefully: a running pod gets deletionTimestamp, its processes get SIGTERM
   * and, after the grace period, SIGKILL, and the pod is removed once they are gone.
   */
  async deletePod(
    namespace: string,
    name: string,
    graceSeconds?: number,
  ): Promise<Json | undefined> {
    const pod = this.store.get('pods', namespace, name);
    if (pod === undefined) {
      return undefined;
    }
    const meta = metadataOf(pod);
    if (meta.deletionTimestamp !== undefined) {
      return pod;
    }
    const phase = (pod.status as Json | undefined)?.phase;
    const grace = graceSeconds ?? Number((pod.spec as Json).terminationGracePeriodSeconds ?? 30);
    const uid = String(meta.uid);
    if (phase === 'Succeeded' || phase === 'Failed' || (pod.spec as Json).nodeName === undefined) {
      await this.kubelet.stopPod(uid, 0);
      const removed = this.store.remove('pods', namespace, name);
      this.kubelet.forgetPod(uid);
      return removed;
    }
    meta.deletionTimestamp = kubeTime(new Date(Date.now() + grace * 1000));
    meta.deletionGracePeriodSeconds = grace;
    const marked = this.store.update('pods', pod);
    void this.kubelet.stopPod(uid, grace).then(() => {
      const current = this.store.get('pods', namespace, name);
      if (current !== undefined && metadataOf(current).uid === uid) {
        this.store.remove('pods', namespace, name);
      }
      this.kubelet.forgetPod(uid);
    });
    return marked;
  }

  /** Removes a pod at once, as a node failure or an eviction outside the Job controller would. */
  async vanishPod(
    namespace: string,
    name: string,
    controllerPauseMilliseconds: number,
  ): Promise<void> {
    const pod = this.store.get('pods', namespace, name);
    if (pod === undefined) {
      throw new Error(`pod ${namespace}/${name} not found`);
    }
    const jobName = ((metadataOf(pod).labels ?? {}) as Json)['batch.kubernetes.io/job-name'];
    if (typeof jobName === 'string') {
      this.controller.pause(namespace, jobName, controllerPauseMilliseconds);
    }
    const uid = String(metadataOf(pod).uid);
    const stopping = this.kubelet.stopPod(uid, 0);
    this.store.remove('pods', namespace, name);
    await stopping;
    this.kubelet.forgetPod(uid);
  }

  /** Deletes a Job with a propagation policy; see GarbageCollector.deleteJob. */
  deleteJob(namespace: string, name: string, propagationPolicy: string): Json | undefined {
    return this.garbageCollector.deleteJob(namespace, name, propagationPolicy);
  }

  private send(response: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private recordViolation(
    request: IncomingMessage,
    path: string,
    kind: string,
    name: string,
    causes: StatusCause[],
  ): void {
    this.violations.push({ method: String(request.method), path, kind, name, causes });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(String(request.url), 'http://127.0.0.1');
    const route = routeOf(url.pathname);
    const verb = verbOf(String(request.method), route, url.searchParams);
    const call: RecordedCall = {
      method: String(request.method),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      verb,
      resource: route?.type.resource,
      subresource: route?.subresource,
      namespace: route?.namespace,
      name: route?.name,
      code: 0,
    };
    this.calls.push(call);
    const originalWriteHead = response.writeHead.bind(response);
    response.writeHead = ((code: number, ...rest: unknown[]) => {
      call.code = code;
      return (originalWriteHead as (...args: unknown[]) => ServerResponse)(code, ...rest);
    }) as typeof response.writeHead;

    const authorization = request.headers.authorization ?? '';
    const token = authorization.startsWith('Bearer ')
      ? authorization.slice('Bearer '.length)
      : undefined;
    // Health and version endpoints are open to anonymous requests, as system:public-info-viewer
    // allows on a real server, but a token that is sent must be valid everywhere.
    const publicPath = ['/healthz', '/readyz', '/livez', '/version'].includes(url.pathname);
    if (token === undefined ? !publicPath : !this.tokens.has(token)) {
      throw unauthorized();
    }

    if (['/healthz', '/readyz', '/livez'].includes(url.pathname)) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('ok');
      return;
    }
    if (url.pathname === '/version') {
      this.send(response, 200, {
        major: '1',
        minor: '31',
        gitVersion: 'v1.31.0-fake',
        platform: 'linux/amd64',
      });
      return;
    }
    if (route === undefined) {
      throw pathNotFound();
    }
    this.authorize(route, verb);
    await this.dispatch(request, response, url, route, verb);
  }

  private isDenied(attributes: {
    verb: string;
    resource: string;
    subresource?: string;
    namespace?: string;
  }): boolean {
    return this.denied.some(
      (rule) =>
        (rule.verb === undefined || rule.verb === attributes.verb) &&
        (rule.resource === undefined || rule.resource === attributes.resource) &&
        (rule.subresource === undefined || rule.subresource === (attributes.subresource ?? '')) &&
        (rule.namespace === undefined || rule.namespace === attributes.namespace),
    );
  }

  private authorize(route: Route, verb: string): void {
    if (route.type === SELF_SUBJECT_ACCESS_REVIEWS) {
      return;
    }
    const attributes = {
      verb,
      resource: route.type.resource,
      subresource: route.subresource,
      namespace: route.namespace,
    };
    if (this.isDenied(attributes)) {
      throw forbidden(
        route.type,
        this.settings.user,
        verb,
        route.namespace,
        route.name,
        route.subresource,
      );
    }
  }

  private async dispatch(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    route: Route,
    verb: string,
  ): Promise<void> {
    const type = route.type;
    if (type === SELF_SUBJECT_ACCESS_REVIEWS) {
      if (verb !== 'create' || route.name !== undefined) {
        throw methodNotAllowed();
      }
      await this.createAccessReview(request, response, url);
      return;
    }
    if (type === NAMESPACES) {
      if (verb === 'get') {
        const namespace = this.store.get('namespaces', '', String(route.name));
        if (namespace === undefined) {
          throw notFound(NAMESPACES, String(route.name));
        }
        this.send(response, 200, namespace);
        return;
      }
      if (verb === 'list') {
        this.list(response, url, NAMESPACES, '');
        return;
      }
      throw methodNotAllowed();
    }
    if (route.subresource !== undefined) {
      if (type === PODS && route.subresource === 'log' && verb === 'get') {
        const pod = this.getOrFail(PODS, String(route.namespace), String(route.name));
        await servePodLog(request, response, url, pod, this.kubelet);
        return;
      }
      if (type === JOBS && route.subresource === 'status' && verb === 'get') {
        this.send(response, 200, this.getOrFail(type, String(route.namespace), String(route.name)));
        return;
      }
      throw pathNotFound();
    }

    switch (verb) {
      case 'get':
        this.send(response, 200, this.getOrFail(type, String(route.namespace), String(route.name)));
        return;
      case 'list':
        this.list(response, url, type, route.namespace);
        return;
      case 'watch':
        this.watch(request, response, url, type, route.namespace);
        return;
      case 'create':
        if (type === PODS || route.namespace === undefined || route.name !== undefined) {
          throw methodNotAllowed();
        }
        await this.create(request, response, url, type, route.namespace);
        return;
      case 'update':
      case 'patch':
        if ((type !== SECRETS && type !== JOBS) || route.name === undefined) {
          throw methodNotAllowed();
        }
        await this.updateObject(
          request,
          response,
          url,
          type,
          String(route.namespace),
          route.name,
          verb,
        );
        return;
      case 'delete':
        await this.delete(
          request,
          response,
          url,
          type,
          String(route.namespace),
          String(route.name),
        );
        return;
      case 'deletecollection':
        if (route.namespace === undefined) {
          throw methodNotAllowed();
        }
        await this.deleteCollection(request, response, url, type, route.namespace);
        return;
      default:
        throw methodNotAllowed();
    }
  }

  private getOrFail(type: ResourceType, namespace: string, name: string): Json {
    const object = this.store.get(type.resource, namespace, name);
    if (object === undefined) {
      throw notFound(type, name);
    }
    return object;
  }

  private list(
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string | undefined,
  ): void {
    const selectors = selectorsOf(url, type);
    let items = this.store
      .list(type.resource, type === NAMESPACES ? undefined : namespace)
      .filter((object) => matchesSelectors(object, selectors));
    const metadata: Json = { resourceVersion: String(this.store.currentRevision) };

    const continueToken = url.searchParams.get('continue');
    if (continueToken !== null && continueToken !== '') {
      let after: string;
      try {
        after = String(
          (JSON.parse(Buffer.from(continueToken, 'base64url').toString('utf8')) as Json).start,
        );
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      items = items.filter(
        (object) =>
          `${String(metadataOf(object).namespace)}/${String(metadataOf(object).name)}` > after,
      );
    }
    const limit = Number(url.searchParams.get('limit') ?? 0);
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      metadata.continue = Buffer.from(
        JSON.stringify({
          v: 'meta.k8s.io/v1',
          rv: this.store.currentRevision,
          start: `${String(metadataOf(last).namespace)}/${String(metadataOf(last).name)}`,
        }),
      ).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    this.send(response, 200, {
      kind: type.listKind,
      apiVersion: type.apiVersion,
      metadata,
      items: items.map(withoutTypeMeta),
    });
  }

  private watch(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string | undefined,
  ): void {
    const expire = this.expireNextWatches > 0;
    if (expire) {
      this.expireNextWatches--;
    }
    serveWatch(request, response, url, {
      store: this.store,
      type,
      namespace,
      expire,
      bookmarkIntervalMilliseconds: this.settings.bookmarkIntervalMilliseconds,
      defaultTimeoutSeconds: this.settings.defaultWatchTimeoutSeconds,
      openWatches: this.watches,
    });
  }

  private async create(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string,
  ): Promise<void> {
    const body = parseJson(await readBody(request), type);
    checkTypeMeta(body, type);
    if (this.store.get('namespaces', '', namespace) === undefined) {
      throw notFound(NAMESPACES, namespace);
    }
    body.kind = type.kind;
    body.apiVersion = type.apiVersion;
    body.metadata ??= {};
    const meta = body.metadata as Json;
    if (
      meta !== null &&
      typeof meta === 'object' &&
      meta.namespace !== undefined &&
      meta.namespace !== namespace
    ) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (typeof meta.name !== 'string' || meta.name === '') {
      if (typeof meta.generateName === 'string' && meta.generateName !== '') {
        meta.name = generateName(meta.generateName);
      }
    }
    if (meta.resourceVersion !== undefined) {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    const name = String(meta.name ?? '');
    const uid = randomUUID();
    const prepared = type === JOBS ? prepareJob(body, uid) : prepareSecret(body);
    if (prepared.schema.length > 0) {
      this.recordViolation(request, url.pathname, type.kind, name, prepared.schema);
      throw invalid(type, name, prepared.schema);
    }
    if (prepared.causes.length > 0) {
      throw invalid(type, name, prepared.causes);
    }
    if (this.store.get(type.resource, namespace, name) !== undefined) {
      throw alreadyExists(type, name);
    }
    if (url.searchParams.get('dryRun') === 'All') {
      this.send(response, 201, body);
      return;
    }
    if (type === JOBS) {
      meta.generation = 1;
      body.status = {};
    }
    // The generated selector of a Job names the uid, so the store must assign that same one.
    const created = this.store.create(type.resource, namespace, body, uid);
    if (type === SECRETS) {
      this.garbageCollector.checkOwners('secrets', namespace, name);
    }
    this.send(response, 201, created);
  }

  /** Replaces (PUT) or patches a Secret or a Job, with the checks of the real server. */
  private async updateObject(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string,
    name: string,
    verb: string,
  ): Promise<void> {
    const text = await readBody(request);
    const current = this.getOrFail(type, namespace, name);
    let next: Json;
    if (verb === 'update') {
      next = parseJson(text, type);
      checkTypeMeta(next, type);
      const meta = (next.metadata ?? {}) as Json;
      if (meta.name !== undefined && meta.name !== name) {
        throw badRequest(
          `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
        );
      }
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      if (
        meta.resourceVersion !== undefined &&
        meta.resourceVersion !== metadataOf(current).resourceVersion
      ) {
        throw conflict(type, name);
      }
    } else {
      const contentType = String(request.headers['content-type'] ?? '')
        .split(';')[0]
        .trim();
      if (!PATCH_TYPES.includes(contentType)) {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}, application/apply-patch+yaml`,
        );
      }
      let patch: unknown;
      try {
        patch = JSON.parse(text);
      } catch (error) {
        throw badRequest(`error decoding patch: ${(error as Error).message}`);
      }
      next = (
        contentType === 'application/json-patch+json'
          ? applyJsonPatch(current, patch)
          : applyMergePatch(current, patch)
      ) as Json;
    }

    next.kind = type.kind;
    next.apiVersion = type.apiVersion;
    const meta = (next.metadata ?? {}) as Json;
    next.metadata = meta;
    const currentMeta = metadataOf(current);
    meta.name = name;
    meta.namespace = namespace;
    for (const field of [
      'uid',
      'creationTimestamp',
      'resourceVersion',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
    ]) {
      if (currentMeta[field] === undefined) {
        delete meta[field];
      } else {
        meta[field] = currentMeta[field];
      }
    }
    const prepared = type === JOBS ? prepareJobUpdate(current, next) : prepareSecret(next);
    if (prepared.schema.length > 0) {
      this.recordViolation(request, url.pathname, type.kind, name, prepared.schema);
      throw invalid(type, name, prepared.schema);
    }
    const causes =
      type === JOBS ? prepared.causes : [...prepared.causes, ...checkSecretUpdate(current, next)];
    if (causes.length > 0) {
      throw invalid(type, name, causes);
    }
    if (url.searchParams.get('dryRun') === 'All') {
      this.send(response, 200, next);
      return;
    }
    if (JSON.stringify(next) === JSON.stringify(current)) {
      this.send(response, 200, current);
      return;
    }
    this.send(response, 200, this.store.update(type.resource, next));
  }

  /** Reads DeleteOptions from the query and the body, rejecting an unknown propagation policy. */
  private async readDeleteOptions(
    request: IncomingMessage,
    url: URL,
    type: ResourceType,
  ): Promise<{ policy: string; grace?: number; preconditions: Json }> {
    const text = await readBody(request);
    const options: Json =
      text.trim() === ''
        ? {}
        : parseJson(text, { ...type, kind: 'DeleteOptions', apiVersion: 'v1' });
    // batch/v1 Jobs default to orphaning their pods, unlike every other resource served here.
    const policy = String(
      url.searchParams.get('propagationPolicy') ??
        options.propagationPolicy ??
        (type === JOBS ? 'Orphan' : 'Background'),
    );
    if (!['Foreground', 'Background', 'Orphan'].includes(policy)) {
      throw invalid(
        { group: 'meta.k8s.io', resource: 'deleteoptions', kind: 'DeleteOptions' },
        '',
        [
          FieldError.notSupported('propagationPolicy', policy, [
            'Foreground',
            'Background',
            'Orphan',
          ]),
        ],
      );
    }
    const graceText = url.searchParams.get('gracePeriodSeconds') ?? options.gracePeriodSeconds;
    const grace = graceText === undefined || graceText === null ? undefined : Number(graceText);
    return { policy, grace, preconditions: (options.preconditions ?? {}) as Json };
  }

  /**
   * Deletes one object and returns what the server sends back: the pod (pods return the
   * deleted object), the Job while finalizers hold it, or a Success Status.
   */
  private async deleteObject(
    type: ResourceType,
    current: Json,
    options: { policy: string; grace?: number },
  ): Promise<Json | undefined> {
    const meta = metadataOf(current);
    const namespace = String(meta.namespace);
    const name = String(meta.name);
    const success = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        ...(type.group === '' ? {} : { group: type.group }),
        kind: type.resource,
        uid: meta.uid,
      },
    };
    if (type === PODS) {
      const deleted = await this.deletePod(namespace, name, options.grace);
      if (deleted === undefined) {
        throw notFound(type, name);
      }
      return deleted;
    }
    if (type === JOBS) {
      return this.deleteJob(namespace, name, options.policy) ?? success;
    }
    this.store.remove(type.resource, namespace, name);
    return success;
  }

  private async delete(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string,
    name: string,
  ): Promise<void> {
    const options = await this.readDeleteOptions(request, url, type);
    const current = this.getOrFail(type, namespace, name);
    const uid = metadataOf(current).uid;
    if (options.preconditions.uid !== undefined && options.preconditions.uid !== uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${String(options.preconditions.uid)}, UID in object meta: ${String(uid)}`,
        { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.resource },
      );
    }
    this.send(response, 200, await this.deleteObject(type, current, options));
  }

  /** Deletes every object that the selectors match and returns them as a list, as the server does. */
  private async deleteCollection(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    type: ResourceType,
    namespace: string,
  ): Promise<void> {
    const options = await this.readDeleteOptions(request, url, type);
    const selectors = selectorsOf(url, type);
    const matching = this.store
      .list(type.resource, namespace)
      .filter((object) => matchesSelectors(object, selectors));
    const items: Json[] = [];
    for (const object of matching) {
      await this.deleteObject(type, object, options);
      items.push(withoutTypeMeta(object));
    }
    this.send(response, 200, {
      kind: type.listKind,
      apiVersion: type.apiVersion,
      metadata: { resourceVersion: String(this.store.currentRevision) },
      items,
    });
  }

  private async createAccessReview(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> {
    const body = parseJson(await readBody(request), SELF_SUBJECT_ACCESS_REVIEWS);
    checkTypeMeta(body, SELF_SUBJECT_ACCESS_REVIEWS);
    const schema = checkSchema('SelfSubjectAccessReview', {
      ...body,
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
    });
    if (schema.length > 0) {
      this.recordViolation(request, url.pathname, 'SelfSubjectAccessReview', '', schema);
      throw invalid(SELF_SUBJECT_ACCESS_REVIEWS, '', schema);
    }
    const spec = (body.spec ?? {}) as Json;
    const attributes = spec.resourceAttributes as Json | undefined;
    if (attributes === undefined && spec.nonResourceAttributes === undefined) {
      throw invalid(SELF_SUBJECT_ACCESS_REVIEWS, '', [
        FieldError.invalid(
          'spec.resourceAttributes',
          '',
          'exactly one of nonResourceAttributes or resourceAttributes must be specified',
        ),
      ]);
    }
    let allowed = true;
    if (attributes !== undefined) {
      allowed = !this.isDenied({
        verb: String(attributes.verb ?? ''),
        resource: String(attributes.resource ?? ''),
        subresource:
          attributes.subresource === undefined ? undefined : String(attributes.subresource),
        namespace: attributes.namespace === undefined ? undefined : String(attributes.namespace),
      });
    }
    this.send(response, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed
        ? {
            allowed: true,
            reason: `RBAC: allowed by RoleBinding "kriten/${this.settings.namespaces[0]}" of Role "kriten" to ServiceAccount "kriten/${this.settings.namespaces[0]}"`,
          }
        : { allowed: false },
    });
  }
}
