export { planChat, type TokenPlan } from './chat.rules.js';
export {
  DEFAULT_ENCODING,
  ENCODINGS,
  type EncodingName,
  encodingForModel,
  isEncodingName,
} from './encoding.registry.js';
export { IMAGE_UNKNOWN_SIZE_TOKENS, imageTokens } from './image.tokens.js';
export { applyTokenMultiplier } from './token.multiplier.js';
export {
  TokenCounter,
  TokenCounterOptions,
  type TokenCounterStats,
} from './token-counter.service.js';
export { TokenizerModule } from './tokenizer.module.js';
export type {
  ChatMessage,
  ContentPart,
  ImagePart,
  ModelTokenization,
  RefusalPart,
  TextPart,
  ToolCall,
  ToolDefinition,
} from './tokenizer.types.js';
export {
  InvalidUpstreamRequestError,
  readUpstreamRequest,
  type UpstreamRequest,
} from './upstream.request.js';
// Seeded text generators: the corpus of the tokenizer's specs and of `npm run bench:tokenizer`.
export { type CorpusKind, corpusText, noWhitespace, Rng } from './text.corpus.js';
