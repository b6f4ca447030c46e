/**
 * Where scores go: Langfuse (`@langfuse/client`, one score per trace: name, value, comment,
 * metadata) when its keys are set, else one JSON line per score in a local file. Self-contained
 * (no other module of this package), so the gateway's feedback route can use the same sink.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LangfuseClient } from '@langfuse/client';

/** One score on one run's trace. */
export interface Score {
  /** The run's trace id (`done.traceId`). Without one, the score can only go to the file. */
  traceId?: string;
  /** e.g. `judged.correctness`, `tools.trajectory`, `user-feedback`. */
  name: string;
  /** 0..1 for eval scores; 1 or -1 for user feedback. */
  value: number;
  comment?: string;
  /** Run metadata: run id, session id, case id, model, target, judge, prompt version… */
  metadata?: Record<string, unknown>;
}

export interface LangfuseKeys {
  publicKey: string;
  secretKey: string;
  /** @default Langfuse's cloud address (the SDK's own default) */
  baseUrl?: string;
}

export interface ScoreSinkOptions {
  /** Send to Langfuse with these keys; scores without a trace id go to `file` instead. */
  langfuse?: LangfuseKeys;
  /** The JSONL file for scores that do not go to Langfuse. */
  file: string;
}

export interface ScoreSink {
  /** Where scores go: `langfuse` or `file`. */
  readonly destination: 'langfuse' | 'file';
  /** Queues one score; never throws for a bad score (it is dropped and counted). */
  score(score: Score): void;
  /** Sends what is queued; resolves when Langfuse accepted it (or the file is written). */
  flush(): Promise<void>;
  /** Counters: sent to Langfuse, written to the file, dropped as invalid. */
  stats(): { langfuse: number; file: number; dropped: number };
  /** Flushes and stops the Langfuse client (call on shutdown). */
  close(): Promise<void>;
}

/** The name of user thumbs-up/down scores. */
export const FEEDBACK_SCORE_NAME = 'user-feedback';

/**
 * The score for one thumbs-up (1) or thumbs-down (-1) on a run, as the gateway's feedback route
 * sends it.
 * @example
 * sink.score(feedbackScore({ traceId, runId, sessionId, score: -1, comment: 'wrong total' }));
 */
export function feedbackScore(input: { traceId?: string; runId: string; sessionId: string; score: 1 | -1; comment?: string }): Score {
  return {
    ...(input.traceId ? { traceId: input.traceId } : {}),
    name: FEEDBACK_SCORE_NAME,
    value: input.score,
    ...(input.comment ? { comment: input.comment } : {}),
    metadata: { runId: input.runId, sessionId: input.sessionId, source: 'user' },
  };
}

/** Reads `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`, `LANGFUSE_BASE_URL` from an environment. */
export function langfuseKeysFrom(env: Record<string, string | undefined>): LangfuseKeys | undefined {
  const publicKey = env.LANGFUSE_PUBLIC_KEY;
  const secretKey = env.LANGFUSE_SECRET_KEY;
  if (!publicKey || !secretKey) return undefined;
  return { publicKey, secretKey, ...(env.LANGFUSE_BASE_URL ? { baseUrl: env.LANGFUSE_BASE_URL } : {}) };
}

function valid(score: Score): boolean {
  return typeof score.name === 'string' && score.name.length > 0 && score.name.length <= 200 && Number.isFinite(score.value);
}

/**
 * Creates a score sink.
 * @example
 * const sink = createScoreSink({ langfuse: langfuseKeysFrom(process.env), file: 'evals/results/scores.jsonl' });
 * sink.score({ traceId: done.traceId, name: 'user-feedback', value: -1, comment: 'wrong total' });
 * await sink.flush();
 */
export function createScoreSink(options: ScoreSinkOptions): ScoreSink {
  const client = options.langfuse
    ? new LangfuseClient({ publicKey: options.langfuse.publicKey, secretKey: options.langfuse.secretKey, ...(options.langfuse.baseUrl ? { baseUrl: options.langfuse.baseUrl } : {}) })
    : undefined;
  const counters = { langfuse: 0, file: 0, dropped: 0 };
  const pending: string[] = [];

  return {
    destination: client ? 'langfuse' : 'file',
    score(score) {
      if (!valid(score)) {
        counters.dropped += 1;
        return;
      }
      if (client && score.traceId) {
        client.score.create({
          traceId: score.traceId,
          name: score.name,
          value: score.value,
          ...(score.comment ? { comment: score.comment.slice(0, 2000) } : {}),
          ...(score.metadata ? { metadata: score.metadata } : {}),
        });
        counters.langfuse += 1;
        return;
      }
      pending.push(JSON.stringify({ at: new Date().toISOString(), ...score }));
      counters.file += 1;
    },
    async flush() {
      if (pending.length) {
        mkdirSync(dirname(options.file), { recursive: true });
        appendFileSync(options.file, pending.splice(0).join('\n') + '\n');
      }
      if (client) await client.score.flush();
    },
    stats: () => ({ ...counters }),
    async close() {
      await this.flush();
      if (client) await client.shutdown();
    },
  };
}
