/**
 * `POST /v1/chat/completions`: streaming (SSE) and non-streaming answers, tool calls,
 * and the mid-stream faults (`cut`, `malformed`).
 */
import { decideAnswer, estimateTokens, type ChatMessageIn, type MockAnswer, type ToolIn } from './content.js';
import {
  applyUpfrontFault,
  cutConnection,
  finish,
  pause,
  sendError,
  sendJson,
  type Exchange,
} from './exchange.js';

interface ChatBody {
  model: string;
  messages: ChatMessageIn[];
  stream: boolean;
  includeUsage: boolean;
  tools?: ToolIn[];
}

function parseChatBody(body: unknown): ChatBody | string {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') return "'model' must be a non-empty string";
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "'messages' must be a non-empty array";
  for (const m of b.messages as unknown[]) {
    if (typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string') {
      return "each message needs a string 'role'";
    }
  }
  if (b.tools !== undefined && !Array.isArray(b.tools)) return "'tools' must be an array";
  const streamOptions = b.stream_options as { include_usage?: unknown } | undefined;
  return {
    model: b.model,
    messages: b.messages as ChatMessageIn[],
    stream: b.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    tools: b.tools as ToolIn[] | undefined,
  };
}

/** The pieces to stream: text tokens, or a tool call's header then its argument fragments. */
function answerPieces(answer: MockAnswer): Array<Record<string, unknown>> {
  if (answer.kind === 'text') return answer.tokens.map((content) => ({ content }));
  const args = answer.arguments;
  const cut1 = Math.ceil(args.length / 3);
  const cut2 = Math.ceil((2 * args.length) / 3);
  const fragments = [args.slice(0, cut1), args.slice(cut1, cut2), args.slice(cut2)].filter(Boolean);
  return [
    {
      tool_calls: [
        { index: 0, id: answer.id, type: 'function', function: { name: answer.name, arguments: '' } },
      ],
    },
    ...fragments.map((arguments_) => ({ tool_calls: [{ index: 0, function: { arguments: arguments_ } }] })),
  ];
}

function usageOf(body: ChatBody, answer: MockAnswer) {
  const prompt = estimateTokens(body.messages);
  const completion = answer.kind === 'text' ? answer.tokens.length : Math.ceil(answer.arguments.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export async function handleChat(ex: Exchange, rawBody: unknown): Promise<void> {
  const body = parseChatBody(rawBody);
  if (typeof body === 'string') {
    sendError(ex, 400, body, 'bad_request');
    return;
  }
  if (applyUpfrontFault(ex, body.stream)) return;
  const { scenario } = ex;
  const answer = decideAnswer(body.messages, body.tools, scenario);
  const id = `chatcmpl-mock-${ex.record.seq}`;
  const created = Math.floor(Date.now() / 1000);
  const finishReason = answer.kind === 'tool' ? 'tool_calls' : 'stop';
  const gap = scenario.tokensPerSecond > 0 ? 1000 / scenario.tokensPerSecond : 0;

  if (!body.stream) {
    const pieces = answerPieces(answer).length;
    if (!(await pause(ex, scenario.ttftMs + gap * Math.max(0, pieces - 1)))) return;
    if (ex.fault === 'malformed') {
      finish(ex, 'malformed');
      ex.res.writeHead(200, { 'content-type': 'application/json' });
      ex.res.end('{"id": "chatcmpl-mock", "choices": [');
      return;
    }
    const message =
      answer.kind === 'text'
        ? { role: 'assistant', content: answer.tokens.join('') }
        : {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: answer.id, type: 'function', function: { name: answer.name, arguments: answer.arguments } }],
          };
    sendJson(
      ex,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
        usage: usageOf(body, answer),
      },
      'ok',
    );
    return;
  }

  const { res } = ex;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
  let written = 0;
  const send = (delta: Record<string, unknown>, finish_reason: string | null = null): void => {
    const chunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices: [{ index: 0, delta, finish_reason, logprobs: null }],
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    written++;
  };
  /** Applies mid-stream faults after each chunk; true when the stream must stop. */
  const faultNow = (): boolean => {
    if (ex.fault === 'cut' && written >= scenario.cutAfterChunks) {
      cutConnection(ex);
      return true;
    }
    if (ex.fault === 'malformed' && written >= scenario.malformedAfterChunks) {
      finish(ex, 'malformed');
      res.end('data: {"id": "chatcmpl-mock", "choices": [{"delta": \n\ndata: [DONE]\n\n');
      return true;
    }
    return false;
  };

  if (!(await pause(ex, scenario.ttftMs))) return;
  send({ role: 'assistant', content: '' });
  if (faultNow()) return;
  const pieces = answerPieces(answer);
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0 && gap > 0 && !(await pause(ex, gap))) return;
    if (ex.signal.aborted) return;
    send(pieces[i]);
    if (faultNow()) return;
  }
  send({}, finishReason);
  if (faultNow()) return;
  if (body.includeUsage) {
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage: usageOf(body, answer) })}\n\n`,
    );
  }
  finish(ex, 'ok');
  res.end('data: [DONE]\n\n');
}
