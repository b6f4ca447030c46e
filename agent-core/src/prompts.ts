import { readFileSync } from 'node:fs';

/** A prompt name: lowercase letters, digits and dashes, e.g. `system`. */
const PROMPT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** A prompt that cannot be loaded or rendered. */
export class PromptError extends Error {
  override readonly name = 'PromptError';
}

const cache = new Map<string, string>();

/**
 * Reads `prompts/<name>.md` of this package (resolved relative to this module, so it works from
 * any working directory). Cached after the first read.
 *
 * @example
 * const template = loadPrompt('system');
 */
export function loadPrompt(name: string): string {
  if (!PROMPT_NAME.test(name)) throw new PromptError(`Invalid prompt name "${name}"`);
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const url = new URL(`../prompts/${name}.md`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (error) {
    throw new PromptError(`Prompt "${name}" not found`, { cause: error });
  }
  cache.set(name, text);
  return text;
}

/** The placeholder names a template uses, in order of first appearance. */
export function promptPlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

/**
 * Replaces `{{name}}` placeholders with values. Values are inserted verbatim (never re-scanned,
 * so a value containing `{{x}}` stays as is). A placeholder without a value throws PromptError.
 *
 * @example
 * renderPrompt('Hi {{name}}', { name: 'Ada' }) // "Hi Ada"
 */
export function renderPrompt(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    if (!Object.hasOwn(values, key)) throw new PromptError(`Prompt placeholder "{{${key}}}" has no value`);
    return values[key];
  });
}
