import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A `models` row: encoding and list price; the row named `*` prices every other model. */
@Entity({ name: 'models' })
export class ModelPrice {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  encoding!: string | null;

  /** Decimal text (numeric): convert with usdPerMtokToPicosPerToken. */
  @Column({ name: 'input_usd_per_mtok', type: 'numeric' })
  inputUsdPerMtok!: string;

  @Column({ name: 'output_usd_per_mtok', type: 'numeric' })
  outputUsdPerMtok!: string;

  @Column({ name: 'default_max_tokens', type: 'int' })
  defaultMaxTokens!: number;

  @Column({ name: 'token_multiplier', type: 'numeric' })
  tokenMultiplier!: string;
}
