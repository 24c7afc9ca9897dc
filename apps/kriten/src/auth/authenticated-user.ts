/** The caller of a request, attached by the JWT strategy. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  provider: string;
}

/** The claims Kriten puts in its tokens. */
export interface TokenClaims {
  sub: string;
  username: string;
  provider: string;
  /** The user's token version when the token was issued; raising it revokes the token. */
  ver: number;
}
