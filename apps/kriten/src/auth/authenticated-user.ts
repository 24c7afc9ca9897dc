import type { PermissionSet } from './permission-set';

/** The caller of a request, attached by the JWT or API token strategy. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  provider: string;
  /** Directory group names from the user's last login; empty for local users. */
  directoryGroups: string[];
  /** Loaded once per request by the strategy that authenticated it; absent after login. */
  permissions?: PermissionSet;
}

/** The claims Kriten puts in its tokens. */
export interface TokenClaims {
  sub: string;
  username: string;
  provider: string;
  /** The user's token version when the token was issued; raising it revokes the token. */
  ver: number;
}
