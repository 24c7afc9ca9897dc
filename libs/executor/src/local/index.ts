export { LocalExecutor } from './local-executor';
export type { ExecutorLogger, LocalExecutorOptions } from './local-executor-options';
