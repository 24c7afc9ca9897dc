import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('user_groups')
export class GroupEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Unique across providers, so that `/groups/{name}` names one group. */
  @Column({ type: 'varchar', length: 255, unique: true })
  name: string;

  /** `local` (members added through the API) or `active_directory` (members from the directory). */
  @Column({ type: 'varchar', length: 32 })
  provider: string;

  /** Built-in groups such as Admin cannot be deleted. */
  @Column({ type: 'boolean', default: false })
  builtin: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}

@Entity('group_members')
export class GroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'varchar', length: 36 })
  groupId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;
}
