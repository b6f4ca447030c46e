/**
 * The lean client for OpenAI-compatible chat completions: node:http(s) on a keep-alive agent,
 * one request body string built per call (tools serialised once per tool list), a hand-written
 * SSE reader, and the parsed deltas pushed straight into the sink. Per token: one JSON.parse and
 * one sink call; no message chunk objects, no web streams, no promises.
 */
import http from 'node:http';
import https from 'node:https';
import { convertMessagesToCompletionsMessageParams } from '@langchain/openai';
import { HttpStatusError, StreamConnectionError, type ChatClient, type ChatRequest, type StreamSink } from './chat-client.js';
import type { ResolvedModelSpec } from './model-spec.js';
import { SseReader } from './sse.js';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Longest error body read from a failed response. */
const MAX_ERROR_BODY = 16 * 1024;

interface ChunkJson {
  choices?: Array<{
    delta?: {
      content?: string | null;
      tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string; type?: string; code?: string | number };
}

/** The JSON text of each tool list, once: the agent binds the same list for every run. */
const toolsJson = new WeakMap<object, string>();

function jsonOf(value: object): string {
  let text = toolsJson.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    toolsJson.set(value, text);
  }
  return text;
}

function errorMessageOf(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === 'string' && message !== '') return `${status} ${message}`;
  } catch {
    // not JSON: fall through to the status text
  }
  return `${status} ${http.STATUS_CODES[status] ?? 'error'}`;
}

class LeanClient implements ChatClient {
  private readonly url: URL;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  /** `{"model":…,"stream":true,…` without the closing brace: the same for every request. */
  private readonly bodyHead: string;
  private readonly model: string;

  constructor(spec: ResolvedModelSpec) {
    const base = (spec.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.url = new URL(`${base}/chat/completions`);
    this.transport = this.url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true });
    this.headers = {
      ...spec.headers,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${spec.apiKey}`,
    };
    const head: Record<string, unknown> = { model: spec.model, stream: true, stream_options: { include_usage: true } };
    if (spec.temperature !== undefined) head.temperature = spec.temperature;
    if (spec.maxTokens !== undefined) head.max_tokens = spec.maxTokens;
    this.bodyHead = JSON.stringify(head).slice(0, -1);
    this.model = spec.model;
  }

  private body(request: ChatRequest): string {
    const { options } = request;
    let body = `${this.bodyHead},"messages":${JSON.stringify(convertMessagesToCompletionsMessageParams({ messages: request.messages, model: this.model }))}`;
    if (options.tools?.length) body += `,"tools":${jsonOf(options.tools)}`;
    if (options.tool_choice !== undefined) body += `,"tool_choice":${JSON.stringify(options.tool_choice)}`;
    if (options.stop !== undefined) body += `,"stop":${JSON.stringify(options.stop)}`;
    if (options.parallel_tool_calls !== undefined) body += `,"parallel_tool_calls":${options.parallel_tool_calls}`;
    return `${body}}`;
  }

  start(request: ChatRequest, sink: StreamSink): (reason?: unknown) => void {
    let settled = false;
    let sawDone = false;
    let sawFinish = false;
    /** `keep`: the response was read to its end, so its connection can serve the next request. */
    const fail = (err: unknown, keep = false): void => {
      if (settled) return;
      settled = true;
      if (!keep) req.destroy();
      sink.error(err);
    };
    const onData = (data: string): void => {
      if (data === '[DONE]') {
        sawDone = true;
        return;
      }
      const chunk = JSON.parse(data) as ChunkJson;
      if (chunk.error) throw new Error(`provider error in stream: ${chunk.error.message ?? JSON.stringify(chunk.error)}`);
      const choice = chunk.choices?.[0];
      if (choice) {
        const delta = choice.delta;
        if (delta) {
          const content = delta.content;
          if (typeof content === 'string' && content !== '') sink.text(content);
          const calls = delta.tool_calls;
          if (calls) {
            for (const call of calls) sink.toolCall(call.index ?? 0, call.id, call.function?.name, call.function?.arguments);
          }
        }
        if (choice.finish_reason) {
          sawFinish = true;
          sink.finish(choice.finish_reason);
        }
      }
      const usage = chunk.usage;
      if (usage) sink.usage(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0);
    };

    const body = this.body(request);
    const req = this.transport.request(this.url, {
      method: 'POST',
      agent: this.agent,
      headers: { ...this.headers, 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let text = '';
        res.on('data', (piece: string) => {
          if (text.length < MAX_ERROR_BODY) text += piece;
        });
        res.on('end', () => fail(new HttpStatusError(status, res.headers, errorMessageOf(status, text.slice(0, MAX_ERROR_BODY))), true));
        res.on('error', (err) => fail(err));
        res.on('close', () => fail(new StreamConnectionError('the connection closed during an error answer')));
        return;
      }
      const reader = new SseReader(onData);
      res.on('data', (text: string) => {
        if (settled) return;
        try {
          reader.push(text);
        } catch (err) {
          fail(err);
        }
      });
      res.on('end', () => {
        if (settled) return;
        if (!sawDone && !sawFinish) {
          fail(new StreamConnectionError('the stream ended before the answer finished'));
          return;
        }
        settled = true;
        sink.end();
      });
      res.on('error', (err) => fail(err));
      res.on('close', () => fail(new StreamConnectionError('the connection closed before the stream ended')));
    });
    req.on('error', (err) => fail(err));
    req.end(body);
    return () => {
      if (settled) return;
      settled = true;
      req.destroy();
    };
  }
}

/** The lean client of one model. */
export function createLeanClient(spec: ResolvedModelSpec): ChatClient {
  return new LeanClient(spec);
}
