export * from './resource-names';
export * from './job-spec';
export * from './kubelet-escape';
export * from './label-values';
export * from './pod-status';
export { KubernetesExecutor } from './kubernetes-executor';
export type { KubernetesExecutorOptions } from './kubernetes-executor-options';
export { KubernetesApi } from './kubernetes-api';
export { connectToKubernetes, type ConnectionSettings } from './kubernetes-connection';
