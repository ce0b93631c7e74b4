import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** A `models` row: encoding and list price; the row named `*` prices every other model. */
@Entity({ name: 'models' })
@Check('ck_models_input_price', 'input_usd_per_mtok >= 0 AND scale(input_usd_per_mtok) <= 6')
@Check(
  'ck_models_cached_input_price',
  'cached_input_usd_per_mtok >= 0 AND scale(cached_input_usd_per_mtok) <= 6',
)
@Check('ck_models_output_price', 'output_usd_per_mtok >= 0 AND scale(output_usd_per_mtok) <= 6')
@Check('ck_models_default_max_tokens', 'default_max_tokens > 0')
@Check('ck_models_token_multiplier', 'token_multiplier > 0')
export class ModelPrice {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_models' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  encoding!: string | null;

  /** Decimal text (numeric): convert with usdPerMtokToPicosPerToken. */
  @Column({ name: 'input_usd_per_mtok', type: 'numeric' })
  inputUsdPerMtok!: string;

  /** Cached input tokens; NULL prices them as any input token. */
  @Column({ name: 'cached_input_usd_per_mtok', type: 'numeric', nullable: true })
  cachedInputUsdPerMtok!: string | null;

  @Column({ name: 'output_usd_per_mtok', type: 'numeric' })
  outputUsdPerMtok!: string;

  @Column({ name: 'default_max_tokens', type: 'int' })
  defaultMaxTokens!: number;

  /** Decimal text (numeric). */
  @Column({ name: 'token_multiplier', type: 'numeric', default: '1' })
  tokenMultiplier!: string;
}
