import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('role_bindings')
export class RoleBindingEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name: string;

  @Column({ name: 'role_name', type: 'varchar', length: 63 })
  roleName: string;

  /** `users` or `groups`. */
  @Column({ name: 'subject_kind', type: 'varchar', length: 16 })
  subjectKind: string;

  /** A username or a group name. */
  @Column({ name: 'subject_name', type: 'varchar', length: 255 })
  subjectName: string;

  @Column({ name: 'subject_provider', type: 'varchar', length: 32 })
  subjectProvider: string;

  @Column({ type: 'boolean', default: false })
  builtin: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
