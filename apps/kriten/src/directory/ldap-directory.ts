import type { ConnectionOptions } from 'node:tls';
import {
  Client,
  Filter,
  InvalidCredentialsError,
  ResultCodeError,
  SizeLimitExceededError,
} from 'ldapts';
import { groupNameOf } from './distinguished-name';

/** The way the groups that contain a user's groups are found. */
export type NestedGroupMode =
  /** Follow `member` links upwards with searches, up to MAX_NESTING_DEPTH levels (any directory). */
  | 'search'
  /** One search with Active Directory's LDAP_MATCHING_RULE_IN_CHAIN (AD only). */
  | 'in_chain'
  /** Only the groups named by the user's group attribute. */
  | 'off';

export interface LdapSettings {
  url: string;
  bindDn: string;
  /** Sensitive: never logged. */
  bindPassword: string;
  baseDn: string;
  /** An LDAP filter in which `{username}` stands for the escaped username. */
  userFilter: string;
  /** The attribute whose value becomes the Kriten username, such as sAMAccountName or uid. */
  usernameAttribute: string;
  /** The attribute of a user entry that lists the DNs of its groups, such as memberOf. */
  groupAttribute: string;
  nestedGroups: NestedGroupMode;
  /** TLS options for ldaps:// URLs; ignored for ldap:// (StartTLS is not used). */
  tls?: ConnectionOptions;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** A user whose password the directory accepted. */
export interface DirectoryAccount {
  username: string;
  dn: string;
  /** The names (first RDN values, usually the CN) of the user's groups, nested ones included. */
  groups: string[];
}

export type DirectoryFailure =
  /** The user is unknown, ambiguous, or the password is wrong. */
  | 'invalid_credentials'
  /** The server could not be reached or did not respond in time. */
  | 'unreachable'
  /** The server rejected the service account or the search: a server configuration problem. */
  | 'misconfigured';

export class DirectoryError extends Error {
  constructor(
    readonly failure: DirectoryFailure,
    message: string,
  ) {
    super(message);
  }
}

type UserEntry = Record<string, unknown> & { dn: string };

/** The OID of Active Directory's transitive membership matching rule. */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';
export const MAX_NESTING_DEPTH = 10;
/** Member DNs per search when following nested groups, which keeps each filter short. */
const MEMBER_TERMS_PER_SEARCH = 50;
const INVALID_CREDENTIALS = 'invalid username or password';

/**
 * Authenticates users against an LDAP directory such as Active Directory or OpenLDAP: binds with
 * a service account, finds the user's entry, binds as that entry with the user's password, then
 * reads the user's groups with the service account. Each call opens and closes its connections.
 */
export class LdapDirectory {
  constructor(private readonly settings: LdapSettings) {}

  async authenticate(username: string, password: string): Promise<DirectoryAccount> {
    // An empty password makes a simple bind unauthenticated (RFC 4513 section 5.1.2), and many
    // servers report that as success.
    if (password === '' || username === '') {
      throw new DirectoryError('invalid_credentials', INVALID_CREDENTIALS);
    }

    const service = this.newClient();
    try {
      await this.bindServiceAccount(service);
      const entry = await this.findUser(service, username);
      await this.verifyPassword(entry.dn, password);
      const groups = await this.findGroups(service, entry);
      return { username: this.usernameOf(entry, username), dn: entry.dn, groups };
    } finally {
      await service.unbind().catch(() => undefined);
    }
  }

  private newClient(): Client {
    return new Client({
      url: this.settings.url,
      connectTimeout: this.settings.connectTimeoutMs,
      timeout: this.settings.timeoutMs,
      // ldapts switches to TLS whenever TLS options are given, even for an ldap:// URL.
      tlsOptions: this.settings.url.startsWith('ldaps:') ? this.settings.tls : undefined,
    });
  }

  private async bindServiceAccount(client: Client): Promise<void> {
    try {
      await client.bind(this.settings.bindDn, this.settings.bindPassword);
    } catch (error) {
      if (error instanceof ResultCodeError) {
        throw new DirectoryError(
          'misconfigured',
          `the directory at ${this.settings.url} rejected the service account '${this.settings.bindDn}' (${describe(error)}): check KRITEN_LDAP_BIND_DN and KRITEN_LDAP_BIND_PASSWORD`,
        );
      }
      throw this.unreachable(error);
    }
  }

  private async findUser(client: Client, username: string): Promise<UserEntry> {
    const filter = this.settings.userFilter.replaceAll('{username}', Filter.escape(username));
    let entries: UserEntry[];
    try {
      const result = await client.search(this.settings.baseDn, {
        scope: 'sub',
        filter,
        attributes: [this.settings.usernameAttribute, this.settings.groupAttribute],
        sizeLimit: 2,
      });
      entries = result.searchEntries;
    } catch (error) {
      if (error instanceof SizeLimitExceededError) {
        throw new DirectoryError('invalid_credentials', INVALID_CREDENTIALS);
      }
      throw this.searchFailure(error, 'user');
    }
    // Zero or several matches: either way this is not one identifiable user.
    if (entries.length !== 1) {
      throw new DirectoryError('invalid_credentials', INVALID_CREDENTIALS);
    }
    return entries[0];
  }

  /** Binds as the user on a connection of its own, so the service connection keeps its rights. */
  private async verifyPassword(dn: string, password: string): Promise<void> {
    const client = this.newClient();
    try {
      await client.bind(dn, password);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) {
        throw new DirectoryError('invalid_credentials', INVALID_CREDENTIALS);
      }
      if (error instanceof ResultCodeError) {
        // Locked, expired or disabled accounts land here on some servers.
        throw new DirectoryError(
          'invalid_credentials',
          `${INVALID_CREDENTIALS} (the directory answered: ${describe(error)})`,
        );
      }
      throw this.unreachable(error);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async findGroups(client: Client, entry: UserEntry): Promise<string[]> {
    const direct = stringValues(entry[this.settings.groupAttribute]);
    const dn = entry.dn;
    let groupDns: string[];
    switch (this.settings.nestedGroups) {
      case 'off':
        groupDns = direct;
        break;
      case 'in_chain':
        groupDns = [...direct, ...(await this.searchInChain(client, dn))];
        break;
      case 'search':
        groupDns = await this.searchNested(client, dn, direct);
        break;
    }
    const names = groupDns.map(groupNameOf).filter((name): name is string => name !== undefined);
    return [...new Set(names)].sort();
  }

  // NOTE: no test covers this mode, because OpenLDAP, the test directory, lacks the rule.
  private async searchInChain(client: Client, userDn: string): Promise<string[]> {
    const filter = `(member:${IN_CHAIN_RULE}:=${Filter.escape(userDn)})`;
    return this.searchGroupDns(client, filter);
  }

  /**
   * Collects the groups that list the user, or one of those groups, as a `member`, level by
   * level. Groups from the user's group attribute start the walk too, because a directory may
   * report a membership there that no `member` value shows.
   */
  private async searchNested(client: Client, userDn: string, direct: string[]): Promise<string[]> {
    const found = new Set(direct.map(normalizeDn));
    const groupDns = [...direct];
    let frontier = [userDn, ...direct];

    for (let depth = 0; depth < MAX_NESTING_DEPTH && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (let start = 0; start < frontier.length; start += MEMBER_TERMS_PER_SEARCH) {
        const terms = frontier
          .slice(start, start + MEMBER_TERMS_PER_SEARCH)
          .map((memberDn) => `(member=${Filter.escape(memberDn)})`);
        for (const groupDn of await this.searchGroupDns(client, `(|${terms.join('')})`)) {
          if (!found.has(normalizeDn(groupDn))) {
            found.add(normalizeDn(groupDn));
            groupDns.push(groupDn);
            next.push(groupDn);
          }
        }
      }
      frontier = next;
    }
    return groupDns;
  }

  private async searchGroupDns(client: Client, filter: string): Promise<string[]> {
    try {
      const result = await client.search(this.settings.baseDn, {
        scope: 'sub',
        filter,
        attributes: ['1.1'],
      });
      return result.searchEntries.map((entry) => entry.dn);
    } catch (error) {
      throw this.searchFailure(error, 'group');
    }
  }

  private usernameOf(entry: UserEntry, typed: string): string {
    return stringValues(entry[this.settings.usernameAttribute])[0] ?? typed;
  }

  private searchFailure(error: unknown, kind: 'user' | 'group'): DirectoryError {
    if (error instanceof ResultCodeError) {
      return new DirectoryError(
        'misconfigured',
        `the ${kind} search under '${this.settings.baseDn}' on ${this.settings.url} failed (${describe(error)}): check KRITEN_LDAP_BASE_DN and KRITEN_LDAP_USER_FILTER`,
      );
    }
    return this.unreachable(error);
  }

  private unreachable(error: unknown): DirectoryError {
    if (isCertificateError(error)) {
      return new DirectoryError(
        'misconfigured',
        `the TLS certificate of the directory at ${this.settings.url} was rejected (${describe(error)}): set KRITEN_LDAP_CA_FILE to the PEM file of the CA that signed it`,
      );
    }
    return new DirectoryError(
      'unreachable',
      `directory at ${this.settings.url} could not be reached: ${describe(error)}; local users can still log in with provider "local"`,
    );
  }
}

/** Tells a TLS certificate check failure (Node's error codes) from a network failure. */
function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code)
  );
}

function stringValues(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.map(String);
  }
  return value === undefined || value === null || value === '' ? [] : [String(value)];
}

/** DNs compare without regard to case and spaces after commas, which is close enough here. */
function normalizeDn(dn: string): string {
  return dn.toLowerCase().replace(/,\s+/g, ',');
}

function describe(error: unknown): string {
  if (error instanceof ResultCodeError) {
    return `${error.name}, LDAP result code ${error.code}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const firstLine = message.split('\n')[0];
  return typeof code === 'string' && !firstLine.includes(code) ? `${code} ${firstLine}` : firstLine;
}
