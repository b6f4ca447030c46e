// The light entry (zod only): the configuration is checked before the agent's libraries load.
import { parseModelsConfig } from '@switchboard/agent-core/models-config';
import { z } from 'zod';
import { parseRedisUrl, RedisUrlError } from './backends/redis/url.js';
import { parseCorsOrigins } from './http/browser-policy.js';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', ''])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** A Postgres connection URL; the message never repeats the value (it may hold a password). */
const postgresUrl = z.string().superRefine((value, ctx) => {
  const problem = postgresUrlProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

function postgresUrlProblem(value: string): string | null {
  const example = ' (e.g. postgres://user:password@host:5432/dbname)';
  if (!/^postgres(ql)?:\/\//i.test(value)) return `must start with postgres:// or postgresql://${example}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a valid URL${example}`;
  }
  if (!url.hostname && !url.searchParams.get('host')) return `names no host${example}`;
  if (url.pathname.replace(/^\//, '') === '') return `names no database${example}`;
  return null;
}

/** A Redis URL or cluster seed list (checked again with `REDIS_CLUSTER` once the whole environment is parsed). */
const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value, { cluster: true });
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof RedisUrlError ? e.message : String(e) });
  }
});

/** The gateway's configuration, parsed once from the environment at start; the defaults live here. */
export const ConfigSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(8080),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  /** `redis://host:6379`, or a Redis Cluster's seeds `redis+cluster://host:7000,host:7001`. */
  REDIS_URL: redisUrl.optional(),
  /** Read a `redis://` REDIS_URL (one or several comma-separated hosts) as Redis Cluster seeds. */
  REDIS_CLUSTER: bool.default(false),
  /** One gateway process is all there is: production may then run without REDIS_URL. */
  SINGLE_NODE: bool.default(false),
  /** How long start-up retries an unreachable DATABASE_URL or REDIS_URL before it exits 78. */
  STARTUP_TIMEOUT_MS: int(15_000, 0),
  JWT_SECRET: z.string().optional(),
  TRANSPORT: z.enum(['auto', 'uws', 'ws']).default('auto'),
  NODE_ID: z.string().optional(),
  /** Proxy addresses (comma-separated) whose X-Forwarded-For names the client, e.g. `127.0.0.1` behind a local nginx. */
  TRUST_PROXY: z.string().optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /**
   * Largest inbound socket frame (bytes); larger frames close 1009. The default leaves room for a
   * `send` of `maxTextChars` characters in any script (3 UTF-8 bytes each at most).
   */
  MAX_FRAME_BYTES: int(128 * 1024, 2048),
  /** Largest HTTP request body (bytes). */
  MAX_BODY_BYTES: int(256 * 1024, 1024),
  /** A socket whose unsent buffer exceeds this is closed 4009. */
  MAX_BACKPRESSURE_BYTES: int(1024 * 1024, 1024),
  HELLO_TIMEOUT_MS: int(10_000, 100),
  HEARTBEAT_MS: int(30_000, 1000),
  /** Bad-frame score that closes the socket with 4002: each bad frame adds one, one is forgiven every 5 s (valid frames in between do not reset it). */
  MAX_BAD_FRAMES: int(10, 1),
  ACCESS_TOKEN_TTL_S: int(15 * 60, 10),
  REFRESH_TOKEN_TTL_S: int(30 * 24 * 3600, 60),
  RESUME_TOKEN_TTL_S: int(10 * 60, 5),
  RUN_LOCK_TTL_MS: int(15_000, 500),
  DRAIN_TIMEOUT_MS: int(20_000, 0),
  /** Least time between two `token` frames of a run (ms); 0 merges only tokens that waited for the previous frame's write. */
  TOKEN_COALESCE_MS: int(0, 0),
  LOG_RETENTION_FRAMES: int(10_000, 10),
  LOG_RETENTION_MS: int(24 * 3600 * 1000, 1000),
  RATE_MESSAGES_PER_SECOND: int(20, 1),
  RATE_MESSAGE_BURST: int(40, 1),
  RATE_SENDS_PER_MINUTE: int(30, 1),
  RATE_CONNECTIONS_PER_IP_PER_MINUTE: int(120, 1),
  RATE_SOCKETS_PER_USER: int(20, 1),
  DAILY_TOKEN_BUDGET: int(200_000, 0),
  /** Failed sign-ins per (account, address) in 15 minutes before that pair is locked (with backoff). */
  LOGIN_ATTEMPTS_PER_15_MIN: int(10, 1),
  /** Failed sign-ins per account from all addresses in 15 minutes after which only addresses that have not failed may try. Default: 10 × LOGIN_ATTEMPTS_PER_15_MIN. */
  LOGIN_ACCOUNT_CEILING_PER_15_MIN: z.coerce.number().int().min(1).optional(),
  /** Sign-ups per client address per hour. */
  RATE_REGISTRATIONS_PER_IP_PER_HOUR: int(20, 1),
  /** Sessions a user may create per minute. */
  RATE_SESSIONS_PER_USER_PER_MINUTE: int(30, 1),
  /** Origins (comma-separated, exact `scheme://host[:port]`, or `*`) allowed to call the API and open sockets from a browser; none by default. */
  CORS_ORIGINS: z.string().optional(),
  LLM_MODELS: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().optional(),
  /** Total time budget of one model call across retries and fallbacks (ms); the chain's default when unset. */
  LLM_BUDGET_MS: z.string().optional(),
  /** Model tiers, JSON: `{"fast": ["mini"], "smart": {"models": ["big", "mini"], "maxOutputTokens": 1024}}` (names from LLM_MODELS). */
  LLM_TIERS: z.string().optional(),
  /** Cap on output tokens of every model request (a tier's `maxOutputTokens` wins for that tier). */
  LLM_MAX_OUTPUT_TOKENS: z.string().optional(),
  /** Tiers a client may ask for with `send.tier` (comma-separated, or `*` for all); none by default (the router decides). */
  ROUTER_CLIENT_TIERS: z.string().optional(),
  /** Longest message (characters) the router may send to the fast tier. */
  ROUTER_FAST_MAX_CHARS: int(120, 0),
  /** Most earlier user turns in the session for which the router still picks the fast tier. */
  ROUTER_FAST_MAX_DEPTH: int(20, 0),
  /** Per-user daily model spend limit in US dollars (UTC day); 0 = none. */
  DAILY_SPEND_LIMIT_USD: z.coerce.number().finite().min(0).default(0),
  /** Daily model spend limit of the whole deployment in US dollars, shared by every node through Redis; 0 = none. */
  GLOBAL_DAILY_SPEND_LIMIT_USD: z.coerce.number().finite().min(0).default(0),
  /** Exact answer cache (per user, prompt version, tier, recent context and text): off unless set. */
  ANSWER_CACHE: bool.default(false),
  ANSWER_CACHE_TTL_S: int(3600, 1),
  /** Semantic cache: a user's opening question answered from their own most similar earlier one (pgvector where installed); off unless set. */
  SEMANTIC_CACHE: bool.default(false),
  /** Least cosine similarity for a semantic cache hit. */
  SEMANTIC_CACHE_THRESHOLD: z.coerce.number().min(0.5).max(1).default(0.92),
  /** Results of pure tools (calculator) cached this long; 0 turns the tool cache off. */
  TOOL_CACHE_TTL_S: int(3600, 0),
  EMBEDDINGS_MODEL: z.string().optional(),
  /** Vector size of the embeddings model (the offline embedder uses 256). */
  EMBEDDINGS_DIMS: int(1536, 8),
  ALLOW_LOCAL_MODEL_IN_PRODUCTION: bool.default(false),
  LOCAL_MODEL_TOKEN_DELAY_MS: int(20, 0),
  MAX_CONTEXT_TOKENS: int(8000, 256),
  /** When conversation state is checkpointed: `exit` (once per run, fewest writes) or after every step. */
  CHECKPOINT_DURABILITY: z.enum(['exit', 'async', 'sync']).default('exit'),
  /** What runs the agent's turns: `loop` (a plain async loop) or `langgraph` (its StateGraph); both keep the same checkpoints. */
  AGENT_ENGINE: z.enum(['loop', 'langgraph']).default('loop'),
  MAX_TOOL_ROUNDS: int(6, 1),
  TOOL_TIMEOUT_MS: int(10_000, 10),
  /** When set, `/metrics` requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().optional(),
  /** When set, `/metrics` is served only on this port (0: any free port), not on `PORT`. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** OTLP/HTTP base URL for traces (spans go to `<url>/v1/traces`); unset: no OTLP export. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Extra OTLP headers, `key=value,key2=value2`. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().default('switchboard-gateway'),
  /** Langfuse tracing: all three set sends run traces to Langfuse. */
  LANGFUSE_PUBLIC_KEY: z.string().optional(),
  LANGFUSE_SECRET_KEY: z.string().optional(),
  LANGFUSE_BASE_URL: z.string().url().optional(),
  /** JSONL file for user feedback scores when Langfuse keys are not set. @default `<DATA_DIR>/scores.jsonl` */
  SCORES_FILE: z.string().optional(),
});
export type Config = z.infer<typeof ConfigSchema>;

/** The variables `parseModelsConfig` reads. */
export function modelsEnv(config: Config): Record<string, string | undefined> {
  return {
    LLM_MODELS: config.LLM_MODELS,
    OPENAI_API_KEY: config.OPENAI_API_KEY,
    OPENAI_BASE_URL: config.OPENAI_BASE_URL,
    OPENAI_MODEL: config.OPENAI_MODEL,
    LLM_BUDGET_MS: config.LLM_BUDGET_MS,
    LLM_TIERS: config.LLM_TIERS,
    LLM_MAX_OUTPUT_TOKENS: config.LLM_MAX_OUTPUT_TOKENS,
  };
}

/** The tiers `send.tier` may name (`*`: all of them); empty when client hints are off. */
export function clientTiers(value: string | undefined, tiers: readonly string[]): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.includes('*') ? [...tiers] : list;
}

function clientTiersProblem(value: string | undefined, tiers: readonly string[]): string | null {
  const list = clientTiers(value, tiers);
  if (list.length === 0) return null;
  if (tiers.length === 0) return 'needs LLM_TIERS (there are no tiers to choose from)';
  const unknown = list.filter((t) => !tiers.includes(t));
  return unknown.length ? `unknown tier "${unknown[0]}" (LLM_TIERS defines ${tiers.join(', ')})` : null;
}

/** A configuration error that names the variable to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once. Production refuses embedded defaults that would lose data or
 * weaken security.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.REDIS_URL) {
    try {
      parseRedisUrl(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    } catch (e) {
      problems.push(`REDIS_URL: ${(e as Error).message}`);
    }
  }
  try {
    // The model chain is checked here, before any connection opens, not when the agent is built.
    const models = parseModelsConfig(modelsEnv(config));
    const problem = clientTiersProblem(config.ROUTER_CLIENT_TIERS, models?.tiers?.map((t) => t.name) ?? []);
    if (problem) problems.push(`ROUTER_CLIENT_TIERS: ${problem}`);
  } catch (e) {
    if (!(e instanceof Error && e.name === 'ModelsConfigError')) throw e;
    problems.push(e.message);
  }
  try {
    parseCorsOrigins(config.CORS_ORIGINS);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  if (config.APP_ENV === 'production') {
    if (!config.JWT_SECRET || config.JWT_SECRET.length < 32)
      problems.push('JWT_SECRET must be set to at least 32 characters in production');
    if (!config.DATABASE_URL) problems.push('DATABASE_URL must be set in production (the embedded database is for development)');
    if (!config.LLM_MODELS && !config.OPENAI_API_KEY && !config.OPENAI_BASE_URL && !config.ALLOW_LOCAL_MODEL_IN_PRODUCTION)
      problems.push('LLM_MODELS or OPENAI_API_KEY/OPENAI_BASE_URL must be set in production (or ALLOW_LOCAL_MODEL_IN_PRODUCTION=true)');
    if (!config.REDIS_URL && !config.SINGLE_NODE)
      problems.push(
        'REDIS_URL must be set in production (replicas share the session log through it), or SINGLE_NODE=true for exactly one gateway process',
      );
    if (!config.METRICS_TOKEN && config.METRICS_PORT === undefined)
      problems.push('METRICS_TOKEN or METRICS_PORT must be set in production (/metrics must not be public)');
    if (config.METRICS_TOKEN !== undefined && config.METRICS_TOKEN.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
    if (problems.length) throw new ConfigError(`refusing to start in production: ${problems.join('; ')}`);
  }
  return config;
}
