import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Response } from 'express';
import { FindOperator, In } from 'typeorm';
import { ALL_IDS, IdScope } from '../auth/permission-set';

export const TOTAL_COUNT_HEADER = 'X-Total-Count';
export const DEFAULT_PAGE_SIZE = 100;

/** Paging of a list; the total before paging is sent in the X-Total-Count header. */
export class PageQueryDto {
  /** Page size, 1 to 1000; 100 when omitted. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** Number of items to skip. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** Sets the X-Total-Count header and returns the page's items. */
export function sendPage<T>(response: Response, page: Page<T>): T[] {
  response.setHeader(TOTAL_COUNT_HEADER, String(page.total));
  return page.items;
}

/**
 * Turns the ids a caller may read into a `where` value for the id column: no condition for
 * every id, `IN (...)` otherwise. Returns null when the caller may read none, so the query can be skipped.
 */
export function idCondition(scope: IdScope): FindOperator<string> | undefined | null {
  if (scope === ALL_IDS) {
    return undefined;
  }
  return scope.length === 0 ? null : In(scope);
}
