/**
 * The rule-based fact extractor: keeps what the user says about themselves in plain patterns
 * ("remember that …", "my X is Y", "I am / I live / I like …"). Deterministic and offline; an LLM
 * extractor can replace it through the {@link FactExtractor} interface.
 */
import type { FactExtractor } from './types.js';

const MAX_FACT = 300;
const REMEMBER = /^(?:please\s+)?(?:remember|note|don't forget)(?:\s+that)?[\s:,]+(.+)$/i;
const MY_X_IS = /^my\s+[\p{L}\p{N}' -]{1,60}?\s+(?:is|are|was|were)\s+\S.*$/iu;
const I_STATEMENT =
  /^(?:i am|i'm|i live|i like|i love|i prefer|i work|i have|i hate|i dislike|i don't like|i do not like|i speak|i own|i was born|i study)\b\s*\S.*$/i;
/** First-person sentences that are about the conversation, not facts about the user. */
const NOT_A_FACT = /^(?:i am|i'm)\s+(?:not sure|just|going|trying|looking|wondering|asking|curious|sorry|back|here|done|fine|ok|okay)\b/i;

/** Splits text into sentences (on . ! ? ; and newlines). */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?;])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function clean(sentence: string): string {
  return sentence.replace(/[\s.!;,]+$/u, '').replace(/\s+/g, ' ').trim();
}

/** Facts in one user message (without the answer). Exported for tests. */
export function extractFacts(userText: string): string[] {
  const facts: string[] = [];
  for (const raw of splitSentences(userText)) {
    if (raw.endsWith('?')) continue;
    const sentence = clean(raw);
    const remembered = REMEMBER.exec(sentence);
    const fact = remembered
      ? clean(remembered[1])
      : MY_X_IS.test(sentence) || (I_STATEMENT.test(sentence) && !NOT_A_FACT.test(sentence))
        ? sentence
        : '';
    if (fact.split(' ').length >= 2 && fact.length <= MAX_FACT && !facts.includes(fact)) facts.push(fact);
  }
  return facts;
}

/**
 * Creates the rule-based extractor. It reads only the user's words: the answer may paraphrase
 * or guess, and storing guesses as facts would be wrong.
 *
 * @example
 * createRuleFactExtractor().extract({ userText: 'Remember that my favourite colour is teal.', ... })
 * // → ['my favourite colour is teal']
 */
export function createRuleFactExtractor(): FactExtractor {
  return { extract: (turn) => extractFacts(turn.userText) };
}
