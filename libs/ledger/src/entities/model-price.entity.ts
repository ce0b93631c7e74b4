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
@Check('ck_models_input_price_max', 'input_usd_per_mtok <= 1000000')
@Check('ck_models_output_price_max', 'output_usd_per_mtok <= 1000000')
@Check(
  'ck_models_token_multiplier_max',
  'token_multiplier <= 1000 AND scale(token_multiplier) <= 6',
)
@Check(
  'ck_models_encoding',
  "encoding IS NULL OR btrim(encoding) = '' OR lower(btrim(encoding)) IN ('o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base', 'gpt2')",
)
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
