import { groupNameOf } from './distinguished-name';

describe('groupNameOf', () => {
  it.each([
    ['CN=Domain Admins,CN=Users,DC=corp,DC=example', 'Domain Admins'],
    ['cn=devs,ou=groups,dc=example,dc=test', 'devs'],
    ['cn = spaced , ou=groups', 'spaced'],
    ['CN=Smith\\, John,OU=people', 'Smith, John'],
    ['cn=a\\+b\\=c,ou=groups', 'a+b=c'],
    ['cn=caf\\C3\\A9,ou=groups', 'café'],
    ['ou=it+cn=ops,dc=example', 'ops'],
    ['ou=admins,dc=example', 'admins'],
  ])('name of %s', (dn, name) => {
    expect(groupNameOf(dn)).toBe(name);
  });

  it.each([[''], ['no-equals-sign'], ['=value,dc=x'], ['cn=,dc=x'], ['cn=#04024869,dc=x']])(
    'rejects %j',
    (dn) => {
      expect(groupNameOf(dn)).toBeUndefined();
    },
  );
});
