import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ACTIVE_DIRECTORY_PROVIDER } from '../users/providers';
import type { UserEntity } from '../users/user.entity';
import type { AuthenticatedUser } from './authenticated-user';
import { Grant, PermissionSet } from './permission-set';

interface GrantRow {
  resource: string;
  resource_ids: string;
  access: string;
}

/** Loads what a caller may do from the roles bound to them and to their groups. */
@Injectable()
export class AuthorizationService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Returns the caller attached to a request, with their permissions loaded in one query. */
  async authenticate(user: UserEntity): Promise<AuthenticatedUser> {
    const caller: AuthenticatedUser = {
      id: user.id,
      username: user.username,
      provider: user.provider,
      directoryGroups: user.directoryGroups ?? [],
    };
    caller.permissions = await this.permissionsOf(caller);
    return caller;
  }

  /**
   * Merges the roles bound to the user directly, to the local groups they are a member of and to
   * the `active_directory` groups named in their directory groups.
   */
  async permissionsOf(caller: AuthenticatedUser): Promise<PermissionSet> {
    const parameters: unknown[] = [caller.username, caller.provider, caller.id];
    let directoryCondition = '';
    if (caller.directoryGroups.length > 0) {
      directoryCondition = `
        OR (b.subject_kind = 'groups' AND b.subject_provider = ?
            AND b.subject_name IN (${caller.directoryGroups.map(() => '?').join(', ')}))`;
      parameters.push(ACTIVE_DIRECTORY_PROVIDER, ...caller.directoryGroups);
    }

    const rows: GrantRow[] = await this.dataSource.query(
      `SELECT r.resource AS resource, r.resource_ids AS resource_ids, r.access AS access
         FROM role_bindings b
         JOIN roles r ON r.name = b.role_name
        WHERE (b.subject_kind = 'users' AND b.subject_name = ? AND b.subject_provider = ?)
           OR (b.subject_kind = 'groups' AND EXISTS (
                SELECT 1 FROM user_groups g
                  JOIN group_members m ON m.group_id = g.id
                 WHERE m.user_id = ? AND g.name = b.subject_name
                   AND g.provider = b.subject_provider))${directoryCondition}`,
      parameters,
    );
    return new PermissionSet(rows.map(toGrant));
  }
}

function toGrant(row: GrantRow): Grant {
  return {
    resource: row.resource,
    access: row.access,
    resourceIds: JSON.parse(row.resource_ids) as string[],
  };
}
