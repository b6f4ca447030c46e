import { createRuleFactExtractor, extractFacts } from './fact-extractor.js';

describe('rule-based fact extractor', () => {
  it('keeps explicit requests and plain statements about the user', () => {
    expect(extractFacts('Remember that my favourite colour is teal.')).toEqual(['my favourite colour is teal']);
    expect(extractFacts('please remember: the wifi password is hunter2!')).toEqual(['the wifi password is hunter2']);
    expect(extractFacts('Hi! My name is Ada. I live in Oslo; I like cold swims.')).toEqual([
      'My name is Ada',
      'I live in Oslo',
      'I like cold swims',
    ]);
    expect(extractFacts("I'm a nurse\nmy kids are 4 and 7")).toEqual(["I'm a nurse", 'my kids are 4 and 7']);
  });

  it('skips questions, chatter and duplicates', () => {
    expect(extractFacts('What is my favourite colour?')).toEqual([]);
    expect(extractFacts("I'm not sure. I am just asking. What is 2+2?")).toEqual([]);
    expect(extractFacts('I like tea. I like tea.')).toEqual(['I like tea']);
    expect(extractFacts('')).toEqual([]);
  });

  it('reads only the user text through the interface', async () => {
    const facts = await createRuleFactExtractor().extract({ userId: 'u', sessionId: 's', userText: 'hello', answer: 'My name is Bot.' });
    expect(facts).toEqual([]);
  });
});
