export * from './job-executor';
export * from './local';
