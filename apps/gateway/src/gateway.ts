import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { BudgetRefusedError, TokenBudget, TokenBudgetError } from '#client';

export interface GatewayOptions {
  budget: TokenBudget;
  /** The OpenAI-compatible upstream, e.g. `https://api.openai.com/v1`. */
  upstreamUrl: string;
  upstreamApiKey: string;
}

/**
 * An example OpenAI-compatible gateway: POST /v1/chat/completions, forwarded to the upstream
 * through budget.run() (check, cap at the granted tokens, commit with the usage or the streamed
 * text, refund on failure). The subject is the `x-budget-subject` header, else the body's `user`.
 */
export function createGateway({ budget, upstreamUrl, upstreamApiKey }: GatewayOptions): Server {
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        const status = error instanceof UpstreamError ? error.status : 502;
        send(res, status, openAiError(String(error), 'upstream_error'));
      }
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(res, 404, openAiError('Only POST /v1/chat/completions is served here.', 'not_found'));
      return;
    }
    const request = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const subject = String(req.headers['x-budget-subject'] ?? request.user ?? 'anonymous');
    // Abandoned by the client: stop reading the upstream, so the reservation is refunded.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    let result: unknown;
    try {
      result = await budget.run({ subject, request, signal: gone.signal }, async (granted) => {
        // Capped at what was granted; a stream is asked to end with its usage.
        const body: Record<string, unknown> = {
          ...request,
          max_completion_tokens: granted.max_tokens,
        };
        delete body.max_tokens;
        if (body.stream === true) {
          body.stream_options = { include_usage: true };
        }
        const upstream = await fetch(`${upstreamUrl}/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${upstreamApiKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
          signal: gone.signal,
        });
        if (!upstream.ok) {
          throw new UpstreamError(upstream.status, await upstream.text());
        }
        return body.stream === true ? sseChunks(upstream.body!) : upstream.json();
      });
    } catch (error) {
      if (error instanceof BudgetRefusedError) {
        const headers: Record<string, string> =
          error.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': String(error.retryAfterSeconds) };
        send(res, 429, openAiError(error.message, error.code), headers);
        return;
      }
      if (error instanceof UpstreamError) {
        res.writeHead(error.status, { 'content-type': 'application/json' }).end(error.body);
        return;
      }
      if (error instanceof TokenBudgetError) {
        send(res, 503, openAiError(error.message, error.code));
        return;
      }
      throw error;
    }
    if (!isStream(result)) {
      send(res, 200, result);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for await (const chunk of result) {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }
}

class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upstream answered ${status}`);
  }
}

/** The chunk objects of an OpenAI server-sent event stream, until `[DONE]`. */
async function* sseChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) {
          continue;
        }
        const data = line.slice(5).trim();
        if (data === '[DONE]') {
          return;
        }
        yield JSON.parse(data);
      }
    }
  }
  throw new UpstreamError(502, 'The upstream stream ended without [DONE].');
}

function isStream(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function openAiError(message: string, code: string): unknown {
  return { error: { message, type: code, code } };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
