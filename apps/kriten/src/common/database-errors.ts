/** True when an insert failed because the primary key or a unique key is taken (SQLite or MySQL). */
export function isDuplicateKeyError(error: unknown): boolean {
  const driverError =
    (error as { driverError?: { code?: string; errno?: number } }).driverError ??
    (error as { code?: string });
  const code = (driverError as { code?: string }).code ?? '';
  return (
    code === 'ER_DUP_ENTRY' ||
    code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}
