import { InvalidRequestError } from '#kernel';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '#config';
import { costMicros, type Pricing } from '#budget';
import { CatalogueService, type ModelEntry } from '#ledger';
import { DEFAULT_ENCODING, TokenCounter } from '#tokenizer';
import type { EstimateRequestBody } from './decision.contract.js';

export interface Estimate {
  subject: string;
  tier: string;
  model: ModelEntry;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

/** Counting and pricing a request before it runs: shared by /v1/estimate and /v1/check. */
@Injectable()
export class EstimateService implements OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly catalogue: CatalogueService,
    private readonly counter: TokenCounter,
  ) {}

  /** Loads the encodings the catalogue uses before the first request needs them. */
  async onApplicationBootstrap(): Promise<void> {
    // The default encoding too: models without an encoding column resolve to it by name prefix.
    await this.counter.warmUp([...new Set([...this.catalogue.modelEncodings(), DEFAULT_ENCODING])]);
  }

  async estimate(dto: EstimateRequestBody): Promise<Estimate> {
    assertOneInputForm(dto);
    const model = this.catalogue.requireModel(dto.model);
    const completionTokens = completionEstimate(dto, model.defaultMaxTokens);
    const promptTokens = await this.countPrompt(dto, model);
    return {
      subject: dto.subject,
      tier: this.catalogue.tierOf(dto.subject),
      model,
      promptTokens,
      completionTokens,
      costMicros: costMicros(promptTokens, completionTokens, model.pricing),
    };
  }

  /** Counts a completion text with the model's encoding (commit without usage numbers). */
  countCompletion(text: string, modelName: string): Promise<number> {
    return this.counter.countText(text, this.catalogue.requireModel(modelName));
  }

  pricingOf(modelName: string): Pricing {
    return this.catalogue.requireModel(modelName).pricing;
  }

  get defaultTtlSeconds(): number {
    return this.config.get('RESERVATION_TTL_SECONDS');
  }

  private async countPrompt(dto: EstimateRequestBody, model: ModelEntry): Promise<number> {
    if (dto.prompt_tokens !== undefined) {
      return dto.prompt_tokens;
    }
    if (dto.prompt !== undefined) {
      return this.counter.countText(dto.prompt, model);
    }
    return this.counter.countChat(dto.messages!, model, dto.tools);
  }
}

function assertOneInputForm(dto: EstimateRequestBody): void {
  const given = [dto.messages, dto.prompt, dto.prompt_tokens].filter((form) => form !== undefined);
  if (given.length !== 1) {
    throw new InvalidRequestError(
      `Give exactly one of "messages", "prompt" or "prompt_tokens" (got ${given.length}).`,
    );
  }
  if (dto.tools !== undefined && dto.messages === undefined) {
    throw new InvalidRequestError('"tools" may only be given beside "messages".');
  }
}

function completionEstimate(dto: EstimateRequestBody, modelDefault: number): number {
  if (
    dto.max_tokens !== undefined &&
    dto.max_completion_tokens !== undefined &&
    dto.max_tokens !== dto.max_completion_tokens
  ) {
    throw new InvalidRequestError(
      '"max_tokens" and its alias "max_completion_tokens" disagree; give one of them.',
    );
  }
  return dto.max_tokens ?? dto.max_completion_tokens ?? modelDefault;
}
