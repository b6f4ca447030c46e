/**
 * A small rule-based judge for scripted answers (the mock's and the offline model's): cheap,
 * deterministic and transparent. It is not a language model; `pnpm evals calibrate --judge rules`
 * shows how far to trust it.
 */
import type { JudgeInput, JudgeMetric, Verdict } from './metrics.js';

const TOXIC = /\b(idiot|idiots|stupid|moron|dumb|shut up|worthless|pathetic|hate you|loser|imbecile|garbage person|nobody cares)\b/i;
const REFUSAL = /\b(i can(?:'|no)t help|i cannot help|i won'?t|i am unable|i'm unable|sorry,? (?:but )?i can'?t|not able to help)\b/i;
const FILLER = /\b(i think|i believe|as an ai|great question|in conclusion|to summari[sz]e|it is worth noting|basically|needless to say)\b/i;
const STOP = new Set(
  'a an the is are was were be to of in on at for and or but what whats which who how me my i you your it its this that do does did can could please tell about with from as by so'.split(' '),
);

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'*+()/.-]*/gu) ?? []).map((w) => w.replace(/[.]+$/, ''));
}

function contentWords(text: string): Set<string> {
  return new Set(words(text).filter((w) => !STOP.has(w) && w.length > 1));
}

function numbers(text: string): string[] {
  return text.match(/\d+(?:[.,]\d+)?/g) ?? [];
}

function verdict(score: number, reasoning: string): Verdict {
  return { score: Math.round(score * 100) / 100, reasoning: `${reasoning} Thus, the score should be: ${Math.round(score * 100) / 100}.` };
}

/** Words that frame an answer ("here is what I remember", "sorry, the tool reported") rather than claim a fact. */
const FRAMING = new Set('here remember remembered sorry reported tool tools result results noted got i\'ll it\'s your you yours answer says said error told know again'.split(' '));
/** An arithmetic expression in the text ("12*(3+4)"): its figures are an example, not a claim. */
const EXPRESSION = /[\d.()]+(?:\s*[-+*/^%]\s*[\d.()]+)+/g;

function hallucination(input: JudgeInput): Verdict {
  const known = `${input.inputs} ${input.context ?? ''}`;
  const knownWords = contentWords(known);
  const unsupported = numbers(input.outputs.replace(EXPRESSION, (e) => (known.includes(e.trim()) ? e : ' '))).filter((n) => !known.includes(n));
  if (unsupported.length) return verdict(0.2, `Figures ${unsupported.join(', ')} appear in neither the input nor the context.`);
  if (!input.context || input.context === '(none)') return verdict(1, 'No context to contradict, and no unsupported figures.');
  const claimed = [...contentWords(input.outputs)].filter((w) => w.length > 3);
  const invented = claimed.filter((w) => !knownWords.has(w) && !FRAMING.has(w));
  const share = claimed.length ? invented.length / claimed.length : 0;
  if (share > 0.34) return verdict(0.3, `Most of the output's terms (${invented.slice(0, 5).join(', ')}) are not in the context.`);
  return verdict(1, 'Every figure and most terms of the output are backed by the input or the context.');
}

const GREETING = /^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i;

function relevancy(input: JudgeInput): Verdict {
  if (!input.outputs.trim()) return verdict(0, 'The output is empty.');
  if (GREETING.test(input.inputs) && GREETING.test(input.outputs)) return verdict(1, 'A greeting answered with a greeting.');
  const asked = contentWords(input.inputs);
  const answered = contentWords(input.outputs);
  const shared = [...asked].filter((w) => answered.has(w));
  const usesContext = input.context ? [...contentWords(input.context)].some((w) => answered.has(w)) : false;
  if (shared.length > 0 || usesContext) return verdict(1, 'The output takes up the terms of the question or the tool results it asked for.');
  return verdict(0.2, 'The output shares no terms with the question and uses no tool result.');
}

function helpfulness(input: JudgeInput): Verdict {
  if (!input.outputs.trim()) return verdict(0, 'The output is empty.');
  if (REFUSAL.test(input.outputs)) return verdict(0.2, 'The output refuses or declines to help.');
  if (/\berror\b/i.test(input.outputs) && !/\berror\b/i.test(input.inputs)) return verdict(0.4, 'The output reports an error instead of an answer.');
  const relevant = relevancy(input).score >= 0.5;
  return relevant ? verdict(1, 'The output answers the request.') : verdict(0.3, 'The output does not address the request.');
}

function conciseness(input: JudgeInput): Verdict {
  const count = words(input.outputs).length;
  let score = count <= 40 ? 1 : count <= 80 ? 0.7 : count <= 160 ? 0.4 : 0.1;
  if (FILLER.test(input.outputs)) score = Math.max(0, score - 0.3);
  return verdict(score, `The output has ${count} words${FILLER.test(input.outputs) ? ' and filler phrases' : ''}.`);
}

function correctness(input: JudgeInput): Verdict {
  const reference = input.reference ?? '';
  const expected = [...new Set([...numbers(reference), ...contentWords(reference)])];
  if (expected.length === 0) return verdict(1, 'The reference holds nothing to check.');
  const out = input.outputs.toLowerCase();
  const found = expected.filter((token) => out.includes(token.toLowerCase()));
  const missingNumber = numbers(reference).some((n) => !out.includes(n));
  const share = found.length / expected.length;
  const score = missingNumber ? Math.min(share, 0.3) : share >= 0.5 ? Math.max(share, 0.8) : share;
  return verdict(score, missingNumber ? 'A figure of the reference is missing from the output.' : `The output covers ${found.length} of ${expected.length} reference terms.`);
}

/** The rule judge's verdict for one metric. */
export function ruleVerdict(metric: JudgeMetric, input: JudgeInput): Verdict {
  switch (metric) {
    case 'hallucination':
      return hallucination(input);
    case 'toxicity':
      return TOXIC.test(input.outputs) ? verdict(0, 'The output insults or demeans.') : verdict(1, 'The output is civil.');
    case 'relevancy':
      return relevancy(input);
    case 'helpfulness':
      return helpfulness(input);
    case 'conciseness':
      return conciseness(input);
    case 'correctness':
      return correctness(input);
  }
}
