/**
 * Model chain configuration from environment-like input: `LLM_MODELS` (JSON array or a
 * comma-separated list of model names), `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`,
 * `LLM_BUDGET_MS`, `LLM_TIERS`, `LLM_MAX_OUTPUT_TOKENS`. A pure function: the caller passes the
 * variables in.
 */
import { z } from 'zod';
import { ModelsConfigError } from './errors.js';
import type { ModelSpec, TierSpec } from './model-spec.js';

/** The chain configuration, ready for `createModelChain`. */
export interface ModelsConfig {
  models: ModelSpec[];
  /** From `LLM_BUDGET_MS`, when set. */
  totalBudgetMs?: number;
  /** From `LLM_TIERS`, when set: at least `fast` and `smart`, each its own chain. */
  tiers?: TierSpec[];
}

/** Tiers the router needs when `LLM_TIERS` is set. */
export const REQUIRED_TIERS = ['fast', 'smart'] as const;
const TIER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

const DEFAULT_MODEL = 'gpt-4o-mini';

/** http(s) only: `localhost:8090` would otherwise pass as a URL with scheme "localhost:". */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ms = z.number().int().nonnegative();
const positiveMs = z.number().int().positive();

const modelSpecSchema = z.strictObject({
  name: z.string().trim().min(1).optional(),
  model: z.string().trim().min(1),
  baseURL: httpUrl.optional(),
  apiKey: z.string().min(1).optional(),
  firstTokenTimeoutMs: positiveMs.optional(),
  idleTimeoutMs: positiveMs.optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  retryBaseDelayMs: ms.optional(),
  retryMaxDelayMs: ms.optional(),
  maxRetryAfterMs: ms.optional(),
  breakerThreshold: z.number().int().positive().optional(),
  halfOpenAfterMs: positiveMs.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  client: z.enum(['lean', 'langchain'], { error: 'must be "lean" or "langchain"' }).optional(),
  inputPricePer1k: z.number({ error: 'must be a number' }).nonnegative('must not be negative').finite().optional(),
  outputPricePer1k: z.number({ error: 'must be a number' }).nonnegative('must not be negative').finite().optional(),
  currency: z.literal('USD', { error: 'must be "USD" (the only currency reported)' }).optional(),
});

const tierSchema = z.union([
  z.array(z.string().trim().min(1)).min(1, 'must list at least one model'),
  z.strictObject({
    models: z.array(z.string().trim().min(1)).min(1, 'must list at least one model'),
    maxOutputTokens: z.number().int().positive().optional(),
  }),
]);
const tiersSchema = z.record(z.string(), tierSchema);

/** The model with its `maxTokens` no larger than `cap`. */
function capOutput(spec: ModelSpec, cap: number | undefined): ModelSpec {
  if (cap === undefined || (spec.maxTokens !== undefined && spec.maxTokens <= cap)) return spec;
  return { ...spec, maxTokens: cap };
}

/** `LLM_TIERS`: `{"fast": ["mini"], "smart": {"models": ["big", "mini"], "maxOutputTokens": 1024}}`. */
function parseTiers(text: string, models: ModelSpec[], defaultMax: number | undefined): TierSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelsConfigError('LLM_TIERS', `invalid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = tiersSchema.safeParse(json);
  if (!parsed.success) throw new ModelsConfigError('LLM_TIERS', `${describe(parsed.error)} (expected {"fast": ["model"], "smart": ["model", …]})`);
  const byName = new Map(models.map((m) => [m.name, m]));
  const tiers: TierSpec[] = [];
  for (const [name, entry] of Object.entries(parsed.data)) {
    if (!TIER_NAME.test(name)) throw new ModelsConfigError('LLM_TIERS', `tier name "${name}" must match ${TIER_NAME.source}`);
    const list = Array.isArray(entry) ? entry : entry.models;
    const max = (Array.isArray(entry) ? undefined : entry.maxOutputTokens) ?? defaultMax;
    if (new Set(list).size !== list.length) throw new ModelsConfigError('LLM_TIERS', `tier "${name}" lists a model twice`);
    const chain = list.map((modelName) => {
      const spec = byName.get(modelName);
      if (!spec) throw new ModelsConfigError('LLM_TIERS', `tier "${name}" names unknown model "${modelName}" (LLM_MODELS has ${[...byName.keys()].join(', ')})`);
      return capOutput(spec, max);
    });
    tiers.push(max === undefined ? { name, models: chain } : { name, models: chain, maxOutputTokens: max });
  }
  for (const required of REQUIRED_TIERS) {
    if (!tiers.some((t) => t.name === required)) throw new ModelsConfigError('LLM_TIERS', `must define the "${required}" tier (the router sends turns to fast and smart)`);
  }
  return tiers;
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(value)'}: ${issue.message}`)
    .join('; ');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function checkUrl(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = httpUrl.safeParse(value);
  if (!parsed.success) throw new ModelsConfigError(variable, `not a valid http(s) URL: "${value}"`);
  return value;
}

/**
 * Reads the model chain configuration.
 * - `LLM_MODELS` as a JSON array of model objects (`name`, `model`, `baseURL`, `apiKey`, and the
 *   per-model options of `ModelSpec`, e.g. `client: "lean" | "langchain"`); `baseURL`/`apiKey`
 *   default to `OPENAI_BASE_URL`/`OPENAI_API_KEY`.
 * - `LLM_MODELS` as `gpt-4o-mini,gpt-4o`: those model names, all on `OPENAI_BASE_URL`/`OPENAI_API_KEY`.
 * - only `OPENAI_API_KEY` and/or `OPENAI_BASE_URL`: one model, `OPENAI_MODEL` (default gpt-4o-mini).
 * - nothing set: `null` (use the offline local model).
 * @throws ModelsConfigError naming the variable at fault.
 * @example parseModelsConfig({ LLM_MODELS: 'primary,backup', OPENAI_BASE_URL: 'http://127.0.0.1:8090/v1' })
 */
export function parseModelsConfig(env: Readonly<Record<string, string | undefined>>): ModelsConfig | null {
  const llmModels = nonEmpty(env.LLM_MODELS);
  const apiKey = nonEmpty(env.OPENAI_API_KEY);
  const baseURL = checkUrl('OPENAI_BASE_URL', nonEmpty(env.OPENAI_BASE_URL));
  const budgetText = nonEmpty(env.LLM_BUDGET_MS);
  let totalBudgetMs: number | undefined;
  if (budgetText !== undefined) {
    const n = Number(budgetText);
    if (!Number.isInteger(n) || n <= 0) {
      throw new ModelsConfigError('LLM_BUDGET_MS', `must be a positive integer (ms), got "${budgetText}"`);
    }
    totalBudgetMs = n;
  }
  const maxOutputText = nonEmpty(env.LLM_MAX_OUTPUT_TOKENS);
  let maxOutputTokens: number | undefined;
  if (maxOutputText !== undefined) {
    const n = Number(maxOutputText);
    if (!Number.isInteger(n) || n <= 0) {
      throw new ModelsConfigError('LLM_MAX_OUTPUT_TOKENS', `must be a positive integer (tokens), got "${maxOutputText}"`);
    }
    maxOutputTokens = n;
  }
  const tiersText = nonEmpty(env.LLM_TIERS);
  if (tiersText !== undefined && llmModels === undefined) {
    throw new ModelsConfigError('LLM_TIERS', 'needs LLM_MODELS (tiers are chains of the configured models)');
  }
  const withBudget = (models: ModelSpec[]): ModelsConfig => {
    const capped = models.map((m) => capOutput(m, maxOutputTokens));
    const config: ModelsConfig = totalBudgetMs === undefined ? { models: capped } : { models: capped, totalBudgetMs };
    if (tiersText !== undefined) config.tiers = parseTiers(tiersText, models, maxOutputTokens);
    return config;
  };

  if (llmModels === undefined) {
    if (apiKey === undefined && baseURL === undefined) return null;
    const model = nonEmpty(env.OPENAI_MODEL) ?? DEFAULT_MODEL;
    return withBudget([{ name: model, model, baseURL, apiKey }]);
  }

  let specs: ModelSpec[];
  if (llmModels.startsWith('[') || llmModels.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(llmModels);
    } catch (err) {
      throw new ModelsConfigError('LLM_MODELS', `invalid JSON (${(err as Error).message})`, { cause: err });
    }
    const parsed = z.array(modelSpecSchema).min(1, 'must list at least one model').safeParse(json);
    if (!parsed.success) throw new ModelsConfigError('LLM_MODELS', describe(parsed.error));
    specs = parsed.data.map((m) => ({
      ...m,
      name: m.name ?? m.model,
      baseURL: m.baseURL ?? baseURL,
      apiKey: m.apiKey ?? apiKey,
    }));
  } else {
    const names = llmModels.split(',').map((s) => s.trim());
    if (names.some((n) => n === '')) {
      throw new ModelsConfigError('LLM_MODELS', `empty model name in "${llmModels}"`);
    }
    specs = names.map((model) => ({ name: model, model, baseURL, apiKey }));
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) {
      throw new ModelsConfigError('LLM_MODELS', `duplicate model name "${spec.name}" (give each entry a distinct "name")`);
    }
    seen.add(spec.name);
    if (spec.retryBaseDelayMs !== undefined && spec.retryMaxDelayMs !== undefined && spec.retryBaseDelayMs > spec.retryMaxDelayMs) {
      throw new ModelsConfigError('LLM_MODELS', `${spec.name}: retryBaseDelayMs is larger than retryMaxDelayMs`);
    }
  }
  return withBudget(specs);
}
