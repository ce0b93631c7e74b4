import { TokenBudget } from '#client';
import { createGateway } from './gateway.js';

/**
 * The example gateway: `node dist/apps/gateway/src/main.js` with TOKEN_BUDGET_URL,
 * TOKEN_BUDGET_API_KEY, UPSTREAM_URL (default OpenAI), UPSTREAM_API_KEY and GATEWAY_PORT.
 */
const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`Set ${name}.`);
    process.exit(1);
  }
  return value;
};

const budget = new TokenBudget({
  baseUrl: env('TOKEN_BUDGET_URL', 'http://127.0.0.1:3000'),
  apiKey: env('TOKEN_BUDGET_API_KEY'),
});
const port = Number(env('GATEWAY_PORT', '8080'));
createGateway({
  budget,
  upstreamUrl: env('UPSTREAM_URL', 'https://api.openai.com/v1'),
  upstreamApiKey: env('UPSTREAM_API_KEY'),
}).listen(port, () => {
  console.log(`Gateway on http://127.0.0.1:${port}/v1/chat/completions`);
});
