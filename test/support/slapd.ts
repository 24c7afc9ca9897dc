import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { makeTempDir } from './temp';
import { makeCertificates } from './tls-certificates';

const run = promisify(execFile);

/** Finds an OpenLDAP server program in /usr/sbin, which is not on every user's PATH. */
function sbin(program: string): string {
  const path = join('/usr/sbin', program);
  return existsSync(path) ? path : program;
}

export const BASE_DN = 'dc=example,dc=test';
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const SERVICE_DN = `cn=kriten,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'service-password-for-tests';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;

/** A person in the test directory. */
export interface DirectoryUser {
  /** The `uid` of the entry; its RDN is `cn=<username>`. */
  username: string;
  password: string;
}

/** A `groupOfNames` entry; members are usernames of people or names of other groups. */
export interface DirectoryGroup {
  name: string;
  memberUsers?: string[];
  memberGroups?: string[];
}

export interface SlapdOptions {
  users: DirectoryUser[];
  groups: DirectoryGroup[];
  /**
   * Loads slapd's memberof overlay, which keeps `memberOf` on members as groups change. The
   * groups are then added over LDAP after the start, because slapadd bypasses overlays.
   */
  memberOfOverlay?: boolean;
  /**
   * Serves ldaps:// only, with a certificate for 127.0.0.1 signed by a CA made for this server.
   * The CA certificate is at `caFile`.
   */
  tls?: boolean;
}

/** Returns the DN of a person, whose RDN is `cn=<username>`. */
export function userDn(username: string): string {
  return `cn=${username},${PEOPLE_DN}`;
}

export function groupDn(name: string): string {
  return `cn=${name},${GROUPS_DN}`;
}

/**
 * A real OpenLDAP server for tests: its own slapd.conf, an mdb database in a temporary folder,
 * and a foreground slapd child process listening on a free port of 127.0.0.1. The directory
 * denies anonymous reads, as Active Directory does, so a search needs the service account.
 * People have `uid` in place of Active Directory's `sAMAccountName`: log in with the user filter
 * `(uid={username})`.
 */
export class Slapd {
  private constructor(
    private readonly process: ChildProcess,
    readonly dir: string,
    readonly port: number,
    private readonly tls: boolean,
    private output: string,
  ) {}

  get url(): string {
    return `${this.tls ? 'ldaps' : 'ldap'}://127.0.0.1:${this.port}`;
  }

  /** The PEM file of the CA that signed the server certificate (tls option only). */
  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }

  /** Everything slapd printed so far. */
  get logs(): string {
    return this.output;
  }

  static async start(options: SlapdOptions): Promise<Slapd> {
    const dir = makeTempDir('kriten-slapd-');
    mkdirSync(join(dir, 'db'));
    const configFile = join(dir, 'slapd.conf');
    const tls = options.tls === true;
    if (tls) {
      await makeCertificates(dir);
    }
    writeFileSync(configFile, slapdConfig(dir, options.memberOfOverlay === true, tls));

    const offline = options.memberOfOverlay ? [] : options.groups;
    writeFileSync(join(dir, 'data.ldif'), directoryLdif(options.users, offline));
    await run(sbin('slapadd'), ['-f', configFile, '-l', join(dir, 'data.ldif'), '-q']);

    const port = await freePort();
    const child = spawn(
      sbin('slapd'),
      ['-f', configFile, '-h', `${tls ? 'ldaps' : 'ldap'}://127.0.0.1:${port}/`, '-d', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new Slapd(child, dir, port, tls, '');
    child.stdout!.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    await server.waitUntilReady();

    if (options.memberOfOverlay) {
      await server.addGroups(options.groups);
    }
    return server;
  }

  /** Opens a client bound as the directory administrator. */
  async admin<T>(action: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({
      url: this.url,
      timeout: 5000,
      connectTimeout: 5000,
      tlsOptions: this.tls ? { ca: readFileSync(this.caFile) } : undefined,
    });
    try {
      await client.bind(ADMIN_DN, ADMIN_PASSWORD);
      return await action(client);
    } finally {
      await client.unbind();
    }
  }

  async deleteEntry(dn: string): Promise<void> {
    await this.admin((client) => client.del(dn));
  }

  /** Stops slapd and removes its files. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
      this.process.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async addGroups(groups: DirectoryGroup[]): Promise<void> {
    // Children before parents, so that each group exists before a group lists it as a member.
    const ordered = orderMembersFirst(groups);
    await this.admin(async (client) => {
      for (const group of ordered) {
        await client.add(groupDn(group.name), groupAttributes(group));
      }
    });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.process.exitCode !== null) {
        throw new Error(`slapd exited with code ${this.process.exitCode}:\n${this.output}`);
      }
      try {
        await this.admin(async () => undefined);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`slapd did not answer within 15 s: ${String(error)}\n${this.output}`, {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

/** Returns a TCP port of 127.0.0.1 that nothing listens on at the moment of the call. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function slapdConfig(dir: string, memberOfOverlay: boolean, tls: boolean): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'include /etc/ldap/schema/nis.schema',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    ...(tls
      ? [
          `TLSCACertificateFile ${join(dir, 'ca.pem')}`,
          `TLSCertificateFile ${join(dir, 'server.pem')}`,
          `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
        ]
      : []),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...(memberOfOverlay ? ['moduleload memberof'] : []),
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 10485760',
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by users read by * none',
    ...(memberOfOverlay ? ['overlay memberof'] : []),
    '',
  ].join('\n');
}

function directoryLdif(users: DirectoryUser[], groups: DirectoryGroup[]): string {
  const entries: string[][] = [
    [
      `dn: ${BASE_DN}`,
      'objectClass: dcObject',
      'objectClass: organization',
      'o: Example',
      'dc: example',
    ],
    [`dn: ou=services,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: services'],
    [`dn: ${PEOPLE_DN}`, 'objectClass: organizationalUnit', 'ou: people'],
    [`dn: ${GROUPS_DN}`, 'objectClass: organizationalUnit', 'ou: groups'],
    [
      `dn: ${SERVICE_DN}`,
      'objectClass: person',
      'cn: kriten',
      'sn: kriten',
      `userPassword: ${SERVICE_PASSWORD}`,
    ],
  ];
  for (const user of users) {
    entries.push([
      `dn: ${userDn(user.username)}`,
      'objectClass: inetOrgPerson',
      `cn: ${user.username}`,
      `sn: ${user.username}`,
      `uid: ${user.username}`,
      `userPassword: ${user.password}`,
    ]);
  }
  for (const group of groups) {
    const attributes = groupAttributes(group);
    entries.push([
      `dn: ${groupDn(group.name)}`,
      ...attributes.objectClass.map((value) => `objectClass: ${value}`),
      `cn: ${group.name}`,
      ...attributes.member.map((value) => `member: ${value}`),
    ]);
  }
  return entries.map((lines) => lines.join('\n')).join('\n\n') + '\n';
}

function groupAttributes(group: DirectoryGroup) {
  const member = [
    ...(group.memberUsers ?? []).map((username) => userDn(username)),
    ...(group.memberGroups ?? []).map((name) => groupDn(name)),
  ];
  // groupOfNames requires at least one member.
  return {
    objectClass: ['groupOfNames'],
    cn: group.name,
    member: member.length > 0 ? member : [ADMIN_DN],
  };
}

function orderMembersFirst(groups: DirectoryGroup[]): DirectoryGroup[] {
  const ordered: DirectoryGroup[] = [];
  const visit = (group: DirectoryGroup, path: Set<string>) => {
    if (ordered.includes(group) || path.has(group.name)) {
      return;
    }
    path.add(group.name);
    for (const name of group.memberGroups ?? []) {
      const member = groups.find((candidate) => candidate.name === name);
      if (member) {
        visit(member, path);
      }
    }
    ordered.push(group);
  };
  for (const group of groups) {
    visit(group, new Set());
  }
  return ordered;
}
