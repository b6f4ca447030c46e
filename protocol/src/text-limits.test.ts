import { DEFAULT_TEXT_LIMITS, textProblem, utf8Length } from './text-limits.js';

describe('utf8Length', () => {
  it('counts bytes as TextEncoder does, surrogate pairs included', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€', '\ud800 lone surrogate', 'x'.repeat(1000)]) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('textProblem', () => {
  it('accepts a normal message', () => {
    expect(textProblem('hello')).toBeNull();
  });
  it('refuses an empty message', () => {
    expect(textProblem('   ')).toMatch(/empty/);
  });
  it('refuses more characters than the limit, counted after trimming as the server does', () => {
    expect(textProblem('x'.repeat(32_001))).toMatch(/32001 characters; the server accepts at most 32000/);
    expect(textProblem(`  ${'x'.repeat(32_000)}  `)).toBeNull();
  });
  it('refuses 25,000 "€": under the character limit, over 64 KiB as UTF-8', () => {
    const text = '€'.repeat(25_000);
    expect(text.length).toBeLessThan(DEFAULT_TEXT_LIMITS.maxTextChars);
    expect(textProblem(text)).toBe('the message is 75000 bytes as UTF-8; the server accepts frames of at most 65536 bytes');
  });
  it('uses the limits the server announced', () => {
    expect(textProblem('x'.repeat(100), { maxFrameBytes: 65536, maxTextChars: 50 })).toMatch(/at most 50/);
    expect(textProblem('x'.repeat(100), { maxFrameBytes: 300, maxTextChars: 32000 })).toMatch(/frames of at most 300 bytes/);
    expect(textProblem('x'.repeat(100), { maxFrameBytes: 300, maxTextChars: 32000 }, 200)).toBeNull();
  });
});
