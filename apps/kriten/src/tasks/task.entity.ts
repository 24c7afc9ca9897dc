import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('tasks')
export class TaskEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name: string;

  @Index('idx_tasks_runner')
  @Column({ type: 'varchar', length: 63 })
  runner: string;

  @Column({ type: 'text' })
  command: string;

  @Column({ type: 'boolean', default: false })
  synchronous: boolean;

  /** The input schema as JSON text, kept as posted. */
  @Column({ type: 'text', nullable: true })
  schema: string | null;

  @Column({ name: 'sync_timeout_seconds', type: 'int', nullable: true })
  syncTimeoutSeconds: number | null;

  @Column({ name: 'timeout_seconds', type: 'int', nullable: true })
  timeoutSeconds: number | null;

  /** CPU and memory requests and limits as JSON text; null when none are set. */
  @Column({ type: 'text', nullable: true })
  resources: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
