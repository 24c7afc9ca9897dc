export const LOCAL_PROVIDER = 'local';
export const ACTIVE_DIRECTORY_PROVIDER = 'active_directory';

/** Source of a user or group: Kriten's own database or the directory. */
export const PROVIDERS = [LOCAL_PROVIDER, ACTIVE_DIRECTORY_PROVIDER] as const;
export type Provider = (typeof PROVIDERS)[number];
