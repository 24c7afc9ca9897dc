import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';

@Entity('users')
@Unique('uq_users_username_provider', ['username', 'provider'])
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  username: string;

  /** `local`, or the directory the user signs in through. */
  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash: string | null;

  /** Built-in users such as root cannot be deleted. */
  @Column({ type: 'boolean', default: false })
  builtin: boolean;

  /** Raised to invalidate every token issued to the user before. */
  @Column({ name: 'token_version', type: 'int', default: 0 })
  tokenVersion: number;

  /**
   * Names of the directory groups the user belonged to at their last login; null for local
   * users. Role bindings on groups of provider `active_directory` match these names.
   */
  @Column({ name: 'directory_groups', type: 'simple-json', nullable: true })
  directoryGroups: string[] | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
