/** The resources that roles grant access to; `*` in a role means every one of them. */
export const RESOURCES = [
  'runners',
  'tasks',
  'jobs',
  'cronjobs',
  'webhooks',
  'users',
  'groups',
  'roles',
  'role_bindings',
  'api_tokens',
  'audit_logs',
] as const;

export type Resource = (typeof RESOURCES)[number];
export type Access = 'read' | 'write';
export const ACCESS_LEVELS: Access[] = ['read', 'write'];

/** A role's resource value: one resource or every resource. */
export type RoleResource = Resource | '*';

/** The id that stands for every id of a resource. */
export const ALL_IDS = '*';

/** Access that one role grants. */
export interface Grant {
  resource: string;
  access: string;
  resourceIds: string[];
}

/** The ids a caller may access on one resource: every id, or the listed ones. */
export type IdScope = typeof ALL_IDS | string[];

interface Scopes {
  read: Set<string>;
  write: Set<string>;
}

/**
 * The permissions of one caller, merged from all the roles bound to them. `write` includes
 * `read`, and the id `*` matches every id.
 */
export class PermissionSet {
  private readonly byResource = new Map<string, Scopes>();

  constructor(grants: Grant[]) {
    for (const grant of grants) {
      const scopes = this.scopesOf(grant.resource);
      const levels: Access[] = grant.access === 'write' ? ['read', 'write'] : ['read'];
      for (const level of levels) {
        for (const id of grant.resourceIds) {
          scopes[level].add(id);
        }
      }
    }
  }

  /**
   * Checks `access` on one id of a resource. Without an id the check is about the collection.
   * Reading it (a list) needs read access to at least one id, because the list is then
   * filtered. Writing to it (creating) needs access to every id (`*`).
   */
  allows(resource: Resource, access: Access, id?: string): boolean {
    const scope = this.idsFor(resource, access);
    if (scope === ALL_IDS) {
      return true;
    }
    if (id === undefined) {
      return access === 'read' && scope.length > 0;
    }
    return scope.includes(id);
  }

  /** Returns the ids of a resource the caller may access, for filtering lists in the query. */
  idsFor(resource: Resource, access: Access): IdScope {
    const ids = new Set<string>();
    for (const key of [resource, ALL_IDS]) {
      for (const id of this.byResource.get(key)?.[access] ?? []) {
        if (id === ALL_IDS) {
          return ALL_IDS;
        }
        ids.add(id);
      }
    }
    return [...ids].sort();
  }

  private scopesOf(resource: string): Scopes {
    let scopes = this.byResource.get(resource);
    if (!scopes) {
      scopes = { read: new Set(), write: new Set() };
      this.byResource.set(resource, scopes);
    }
    return scopes;
  }
}
