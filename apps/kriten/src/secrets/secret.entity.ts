import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The owner of a secret: a runner's shared secrets, its git token, or a task's secrets. */
export type SecretOwnerKind = 'runner' | 'runner_git_token' | 'task';

@Entity('secrets')
export class SecretEntity {
  @PrimaryColumn({ name: 'owner_kind', type: 'varchar', length: 16 })
  ownerKind: SecretOwnerKind;

  @PrimaryColumn({ name: 'owner_name', type: 'varchar', length: 63 })
  ownerName: string;

  @PrimaryColumn({ name: 'secret_key', type: 'varchar', length: 253 })
  key: string;

  /**
   * AES-256-GCM: base64 of nonce, authentication tag and ciphertext. Null when the value lives
   * in a Kubernetes Secret (KRITEN_EXECUTOR=kubernetes) and the row records only the key.
   */
  @Column({ name: 'encrypted_value', type: 'text', nullable: true })
  encryptedValue: string | null;
}
