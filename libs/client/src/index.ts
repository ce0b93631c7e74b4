import { type Granted, type RunOptions, runWithBudget } from './budget.run.js';
import { TokenBudgetClient } from './token-budget.client.js';

/**
 * The client gateways use: the typed calls of TokenBudgetClient, and run(), which wraps an
 * inference in check → call → commit (or refund):
 *
 *   const budget = new TokenBudget({ baseUrl, apiKey });
 *   const result = await budget.run({ subject, request }, (granted) =>
 *     openai.chat.completions.create({ ...request, max_completion_tokens: granted.max_tokens }));
 */
export class TokenBudget extends TokenBudgetClient {
  run<T>(options: RunOptions, fn: (granted: Granted) => Promise<T> | T): Promise<T> {
    return runWithBudget(this, options, fn);
  }
}

export { AdminCalls, type AdminCallOptions } from './admin.calls.js';
export type * from './admin.types.js';
export type { Granted, RunOptions } from './budget.run.js';
export * from './client.errors.js';
export type * from './client.types.js';
export {
  type CallOptions,
  type CheckResult,
  TokenBudgetClient,
  type TokenBudgetClientOptions,
} from './token-budget.client.js';
