import { ALL_IDS, PermissionSet } from './permission-set';

describe('PermissionSet', () => {
  it('write includes read', () => {
    const permissions = new PermissionSet([
      { resource: 'tasks', access: 'write', resourceIds: ['backup'] },
    ]);

    expect(permissions.allows('tasks', 'read', 'backup')).toBe(true);
    expect(permissions.allows('tasks', 'write', 'backup')).toBe(true);
  });

  it('read excludes write', () => {
    const permissions = new PermissionSet([
      { resource: 'tasks', access: 'read', resourceIds: ['backup'] },
    ]);

    expect(permissions.allows('tasks', 'write', 'backup')).toBe(false);
  });

  it('ids are matched exactly', () => {
    const permissions = new PermissionSet([
      { resource: 'jobs', access: 'read', resourceIds: ['backup'] },
    ]);

    expect(permissions.allows('jobs', 'read', 'backup-2')).toBe(false);
    expect(permissions.allows('jobs', 'read', 'Backup')).toBe(false);
  });

  it('star id matches every id', () => {
    const permissions = new PermissionSet([
      { resource: 'runners', access: 'read', resourceIds: [ALL_IDS] },
    ]);

    expect(permissions.allows('runners', 'read', 'anything')).toBe(true);
    expect(permissions.idsFor('runners', 'read')).toBe(ALL_IDS);
  });

  it('star resource matches every resource', () => {
    const permissions = new PermissionSet([
      { resource: '*', access: 'write', resourceIds: [ALL_IDS] },
    ]);

    expect(permissions.allows('audit_logs', 'write', 'x')).toBe(true);
    expect(permissions.allows('users', 'write')).toBe(true);
  });

  it('grants do not cross resources', () => {
    const permissions = new PermissionSet([
      { resource: 'jobs', access: 'write', resourceIds: [ALL_IDS] },
    ]);

    expect(permissions.allows('tasks', 'read', 'backup')).toBe(false);
    expect(permissions.idsFor('tasks', 'read')).toEqual([]);
  });

  it('collection read needs one id', () => {
    const none = new PermissionSet([]);
    const some = new PermissionSet([{ resource: 'tasks', access: 'read', resourceIds: ['a'] }]);

    expect(none.allows('tasks', 'read')).toBe(false);
    expect(some.allows('tasks', 'read')).toBe(true);
  });

  it('collection write needs star', () => {
    const some = new PermissionSet([{ resource: 'tasks', access: 'write', resourceIds: ['a'] }]);
    const all = new PermissionSet([{ resource: 'tasks', access: 'write', resourceIds: [ALL_IDS] }]);

    expect(some.allows('tasks', 'write')).toBe(false);
    expect(all.allows('tasks', 'write')).toBe(true);
  });

  it('ids merge across roles', () => {
    const permissions = new PermissionSet([
      { resource: 'tasks', access: 'read', resourceIds: ['b'] },
      { resource: 'tasks', access: 'write', resourceIds: ['a'] },
      { resource: 'runners', access: 'write', resourceIds: ['c'] },
    ]);

    expect(permissions.idsFor('tasks', 'read')).toEqual(['a', 'b']);
    expect(permissions.idsFor('tasks', 'write')).toEqual(['a']);
  });

  it('no grants allow nothing', () => {
    const permissions = new PermissionSet([]);

    expect(permissions.allows('runners', 'read', 'x')).toBe(false);
    expect(permissions.idsFor('runners', 'read')).toEqual([]);
  });
});
