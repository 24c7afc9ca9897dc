export * from './data-source-options';
export * from './serialized-transactions';
