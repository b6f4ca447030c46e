import { loadPrompt, PromptError, promptPlaceholders, renderPrompt } from './prompts.js';

describe('prompts', () => {
  it('loads the system prompt from prompts/system.md with its placeholders', () => {
    const template = loadPrompt('system');
    expect(template).toContain('calculator');
    expect(promptPlaceholders(template).sort()).toEqual(['memories', 'now']);
  });

  it('renders placeholders, tolerating inner spaces', () => {
    expect(renderPrompt('Hi {{name}}, it is {{ now }}.', { name: 'Ada', now: 'noon' })).toBe('Hi Ada, it is noon.');
  });

  it('inserts values verbatim without re-expanding them', () => {
    expect(renderPrompt('{{a}}', { a: '{{b}} $& $1' })).toBe('{{b}} $& $1');
  });

  it('throws a PromptError for a missing value', () => {
    expect(() => renderPrompt('{{missing}}', {})).toThrow(PromptError);
    expect(() => renderPrompt('{{toString}}', {})).toThrow('has no value');
  });

  it('rejects unknown or unsafe prompt names', () => {
    expect(() => loadPrompt('does-not-exist')).toThrow('Prompt "does-not-exist" not found');
    expect(() => loadPrompt('../package')).toThrow('Invalid prompt name');
  });
});
