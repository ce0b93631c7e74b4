import { InvalidRequestError } from '#kernel';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { costMicros } from '#budget';
import { CatalogueService, type ModelEntry } from '#ledger';
import {
  DEFAULT_ENCODING,
  TokenCounter,
  type UpstreamRequest,
  readUpstreamRequest,
} from '#tokenizer';
import {
  type CheckRequestBody,
  type EstimateRequestBody,
  MAX_TOKENS,
} from './decision.contract.js';

export interface Estimate {
  subject: string;
  tier: string;
  model: ModelEntry;
  /** The model name as sent (top level, else `request.model`). */
  requestedModel: string;
  promptTokens: number;
  /** The completion cap per choice times `choices`. */
  completionTokens: number;
  /** `n`: how many completions the inference asks for. */
  choices: number;
  costMicros: number;
}

/** Counting and pricing a request before it runs: shared by /v1/estimate and /v1/check. */
@Injectable()
export class EstimateService implements OnApplicationBootstrap {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly counter: TokenCounter,
  ) {}

  /** Loads the encodings the catalogue uses before the first request needs them. */
  async onApplicationBootstrap(): Promise<void> {
    // The default encoding too: models without an encoding column resolve to it by name prefix.
    await this.counter.warmUp([...new Set([...this.catalogue.modelEncodings(), DEFAULT_ENCODING])]);
  }

  /**
   * A check's `min_max_tokens` is judged against the completion estimate here, before the
   * prompt is counted: a request refused for it costs no tokenizing.
   */
  async estimate(
    dto: EstimateRequestBody & Pick<CheckRequestBody, 'min_max_tokens'>,
  ): Promise<Estimate> {
    assertOneInputForm(dto);
    const upstream = dto.request === undefined ? undefined : readUpstreamRequest(dto.request);
    const requestedModel = dto.model ?? upstream?.model;
    if (requestedModel === undefined) {
      throw new InvalidRequestError('Name the model: "model", or "model" inside "request".');
    }
    const model = this.catalogue.requireModel(requestedModel);
    const choices = dto.n ?? upstream?.n ?? 1;
    const perChoice = completionEstimate(dto, upstream?.maxTokens ?? model.defaultMaxTokens);
    const completionTokens = perChoice * choices;
    if (completionTokens > MAX_TOKENS) {
      throw new InvalidRequestError(
        `The completion cap (${perChoice}) times n (${choices}) must not exceed ${MAX_TOKENS} tokens.`,
      );
    }
    if (dto.min_max_tokens !== undefined && dto.min_max_tokens > perChoice) {
      throw new InvalidRequestError(
        `min_max_tokens (${dto.min_max_tokens}) must not exceed max_tokens (${perChoice}).`,
      );
    }
    const promptTokens = await this.countPrompt(dto, model, upstream);
    return {
      subject: dto.subject,
      tier: this.catalogue.tierOf(dto.subject),
      model,
      requestedModel,
      promptTokens,
      completionTokens,
      choices,
      costMicros: costMicros(promptTokens, completionTokens, model.pricing),
    };
  }

  /** Counts a completion text with the model's encoding (commit without usage numbers). */
  countCompletion(text: string, modelName: string): Promise<number> {
    return this.counter.countText(text, this.catalogue.requireModel(modelName));
  }

  private async countPrompt(
    dto: EstimateRequestBody,
    model: ModelEntry,
    upstream: UpstreamRequest | undefined,
  ): Promise<number> {
    if (upstream !== undefined) {
      return this.counter.countRequest(upstream, model);
    }
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
  const given = [dto.messages, dto.prompt, dto.prompt_tokens, dto.request].filter(
    (form) => form !== undefined,
  );
  if (given.length !== 1) {
    throw new InvalidRequestError(
      `Give exactly one of "messages", "prompt", "prompt_tokens" or "request" (got ${given.length}).`,
    );
  }
  if (dto.tools !== undefined && dto.messages === undefined) {
    throw new InvalidRequestError('"tools" may only be given beside "messages".');
  }
}

/** Per choice: the top-level cap, else the request's, else the model's default. */
function completionEstimate(dto: EstimateRequestBody, fallback: number): number {
  if (
    dto.max_tokens !== undefined &&
    dto.max_completion_tokens !== undefined &&
    dto.max_tokens !== dto.max_completion_tokens
  ) {
    throw new InvalidRequestError(
      '"max_tokens" and its alias "max_completion_tokens" disagree; give one of them.',
    );
  }
  return dto.max_tokens ?? dto.max_completion_tokens ?? fallback;
}
