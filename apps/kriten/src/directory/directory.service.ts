import { readFileSync } from 'node:fs';
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { ConfigError, KritenConfig, LdapConfig } from '../config/kriten-config';
import { DirectoryAccount, DirectoryError, LdapDirectory, LdapSettings } from './ldap-directory';

/** Logs users in through the LDAP directory configured by the KRITEN_LDAP_* settings. */
@Injectable()
export class DirectoryService {
  private readonly logger = new Logger(DirectoryService.name);
  private readonly directory?: LdapDirectory;

  constructor(config: KritenConfig) {
    if (config.ldap) {
      this.directory = new LdapDirectory(toSettings(config.ldap));
      this.logger.log(
        `provider active_directory uses ${config.ldap.url} with base DN '${config.ldap.baseDn}'`,
      );
    }
  }

  /** Checks the password with the directory and returns the account with its group names. */
  async authenticate(username: string, password: string): Promise<DirectoryAccount> {
    if (!this.directory) {
      throw new DomainError(
        'invalid_input',
        'provider active_directory is not configured: set KRITEN_LDAP_URL and the other KRITEN_LDAP_* settings, or log in with provider "local"',
      );
    }
    try {
      const account = await this.directory.authenticate(username, password);
      this.logger.debug(
        `directory user '${account.username}' authenticated with groups [${account.groups.join(', ')}]`,
      );
      return account;
    } catch (error) {
      throw this.toDomainError(error, username);
    }
  }

  private toDomainError(error: unknown, username: string): unknown {
    if (!(error instanceof DirectoryError)) {
      return error;
    }
    switch (error.failure) {
      case 'invalid_credentials':
        this.logger.debug(`directory login of '${username}' rejected: ${error.message}`);
        return new DomainError('unauthenticated', error.message);
      case 'unreachable':
        this.logger.warn(error.message);
        return new DomainError('unavailable', error.message);
      case 'misconfigured':
        this.logger.error(error.message);
        return new DomainError(
          'unavailable',
          `directory login is unavailable because of a server configuration problem: ${error.message}`,
        );
    }
  }
}

function toSettings(ldap: LdapConfig): LdapSettings {
  return {
    url: ldap.url,
    bindDn: ldap.bindDn,
    bindPassword: ldap.bindPassword,
    baseDn: ldap.baseDn,
    userFilter: ldap.userFilter,
    usernameAttribute: ldap.usernameAttribute,
    groupAttribute: ldap.groupAttribute,
    nestedGroups: ldap.nestedGroups,
    connectTimeoutMs: ldap.connectTimeoutMs,
    timeoutMs: ldap.timeoutMs,
    tls: {
      rejectUnauthorized: ldap.rejectUnauthorized,
      ...(ldap.caFile !== undefined && { ca: readCaFile(ldap.caFile) }),
    },
  };
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `invalid KRITEN_LDAP_CA_FILE='${path}': the file cannot be read (${(error as Error).message})`,
    );
  }
}
