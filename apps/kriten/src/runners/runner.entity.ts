import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('runners')
export class RunnerEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'varchar', length: 512 })
  image: string;

  @Column({ name: 'git_url', type: 'varchar', length: 2048 })
  gitUrl: string;

  @Column({ type: 'varchar', length: 255 })
  branch: string;

  /** CPU and memory requests and limits as JSON text; null when none are set. */
  @Column({ type: 'text', nullable: true })
  resources: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
