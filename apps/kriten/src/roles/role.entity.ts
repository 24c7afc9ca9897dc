import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('roles')
export class RoleEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name: string;

  /** One of RESOURCES, or `*` for every resource. */
  @Column({ type: 'varchar', length: 32 })
  resource: string;

  /** Ids of the resource, or `["*"]` for every id; jobs are named by their task. */
  @Column({ name: 'resource_ids', type: 'simple-json' })
  resourceIds: string[];

  /** `read` or `write`; write includes read. */
  @Column({ type: 'varchar', length: 8 })
  access: string;

  @Column({ type: 'boolean', default: false })
  builtin: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
