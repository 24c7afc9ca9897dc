import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AuditOutcome = 'success' | 'failure' | 'denied';
export const AUDIT_OUTCOMES: AuditOutcome[] = ['success', 'failure', 'denied'];

/** One login, change, job start or denied request. Holds no request body, secret or token. */
@Entity('audit_logs')
export class AuditLogEntity {
  /** Increasing, so it orders records written in the same millisecond. */
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ type: 'datetime', precision: 3 })
  time: Date;

  /** The caller, or the name given at a failed login; null for an unauthenticated request. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  provider: string | null;

  @Column({ type: 'varchar', length: 16 })
  action: string;

  @Column({ type: 'varchar', length: 64 })
  resource: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 255, nullable: true })
  resourceId: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ name: 'status_code', type: 'int' })
  statusCode: number;

  /** The error message sent to the client, for failures and denials. */
  @Column({ type: 'varchar', length: 1024, nullable: true })
  reason: string | null;

  @Column({ type: 'varchar', length: 8 })
  method: string;

  /** The request path without its query string. */
  @Column({ type: 'varchar', length: 1024 })
  path: string;

  @Column({ name: 'client_address', type: 'varchar', length: 64, nullable: true })
  clientAddress: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;
}
