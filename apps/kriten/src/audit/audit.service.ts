import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ALL_IDS, PermissionSet } from '../auth/permission-set';
import { DomainError, notFound } from '../common/domain-error';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination';
import { AuditLogDto, ListAuditLogsQueryDto } from './audit-log.dto';
import { AuditLogEntity, AuditOutcome } from './audit-log.entity';

/** The fields of a new audit record; the service sets its id and time. */
export interface AuditEntry {
  username: string | null;
  provider: string | null;
  action: string;
  resource: string;
  resourceId: string | null;
  outcome: AuditOutcome;
  statusCode: number;
  reason: string | null;
  method: string;
  path: string;
  clientAddress: string | null;
  requestId: string;
}

const COLUMN_LENGTHS: Partial<Record<keyof AuditEntry, number>> = {
  username: 255,
  provider: 32,
  action: 16,
  resource: 64,
  resourceId: 255,
  reason: 1024,
  method: 8,
  path: 1024,
  clientAddress: 64,
  requestId: 128,
};

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    @InjectRepository(AuditLogEntity) private readonly auditLogs: Repository<AuditLogEntity>,
  ) {}

  /**
   * Stores a record. A failed write is logged and swallowed, because the response to the request it
   * describes has already been sent.
   */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.auditLogs.insert({ ...truncated(entry), time: new Date() });
    } catch (error) {
      this.logger.error(
        `audit record of ${entry.action} on ${entry.resource} by '${entry.username ?? 'anonymous'}' (request ${entry.requestId}) could not be written: ${(error as Error).message}`,
      );
    }
  }

  async list(permissions: PermissionSet, query: ListAuditLogsQueryDto): Promise<Page<AuditLogDto>> {
    checkReadsEveryRecord(permissions);
    const builder = this.auditLogs.createQueryBuilder('log');
    const equalities: Array<[keyof AuditLogEntity, string | undefined]> = [
      ['username', query.user],
      ['action', query.action],
      ['resource', query.resource],
      ['resourceId', query.resource_id],
      ['outcome', query.outcome],
    ];
    for (const [property, value] of equalities) {
      if (value !== undefined) {
        builder.andWhere(`log.${property} = :${property}`, { [property]: value });
      }
    }
    if (query.since !== undefined) {
      builder.andWhere('log.time >= :since', { since: databaseTime(query.since) });
    }
    if (query.until !== undefined) {
      builder.andWhere('log.time < :until', { until: databaseTime(query.until) });
    }

    const [rows, total] = await builder
      .orderBy('log.time', 'DESC')
      .addOrderBy('log.id', 'DESC')
      .take(query.limit ?? DEFAULT_PAGE_SIZE)
      .skip(query.offset ?? 0)
      .getManyAndCount();
    return { items: rows.map(toAuditLogDto), total };
  }

  async get(permissions: PermissionSet, id: string): Promise<AuditLogDto> {
    checkReadsEveryRecord(permissions);
    const row = /^\d{1,15}$/.test(id) ? await this.auditLogs.findOneBy({ id: Number(id) }) : null;
    if (!row) {
      throw notFound('audit log', id);
    }
    return toAuditLogDto(row);
  }
}

/**
 * Requires read access to every audit record: records have no owner that a narrower role could
 * name, so a role on audit_logs with a list of ids grants nothing.
 */
function checkReadsEveryRecord(permissions: PermissionSet): void {
  if (permissions.idsFor('audit_logs', 'read') !== ALL_IDS) {
    throw new DomainError(
      'forbidden',
      'reading audit logs needs a role on audit_logs with read access and resource_ids ["*"]',
    );
  }
}

function truncated(entry: AuditEntry): AuditEntry {
  const copy = { ...entry };
  for (const [field, length] of Object.entries(COLUMN_LENGTHS) as Array<
    [keyof AuditEntry, number]
  >) {
    const value = copy[field];
    if (typeof value === 'string' && value.length > length) {
      (copy[field] as string) = value.slice(0, length);
    }
  }
  return copy;
}

/**
 * Formats an RFC 3339 time as the UTC `YYYY-MM-DD HH:MM:SS.mmm` text that the datetime(3)
 * columns hold on SQLite and that MySQL compares as a datetime.
 */
function databaseTime(value: string): string {
  return new Date(value).toISOString().replace('T', ' ').replace('Z', '');
}

function toAuditLogDto(row: AuditLogEntity): AuditLogDto {
  return {
    id: Number(row.id),
    time: row.time.toISOString(),
    user: row.username,
    provider: row.provider,
    action: row.action,
    resource: row.resource,
    resource_id: row.resourceId,
    outcome: row.outcome,
    status_code: row.statusCode,
    reason: row.reason,
    method: row.method,
    path: row.path,
    client_address: row.clientAddress,
    request_id: row.requestId,
  };
}
