import { CreateSessionBody, LoginBody, PostMessageBody, RegisterBody } from './http.js';

describe('HTTP bodies', () => {
  it('normalises emails and refuses bad ones', () => {
    expect(RegisterBody.parse({ email: ' Ada@Example.COM ', password: 'x' }).email).toBe('ada@example.com');
    expect(RegisterBody.safeParse({ email: 'nope', password: 'x' }).success).toBe(false);
    expect(RegisterBody.safeParse({ email: 'a@b.co', password: 'x'.repeat(257) }).success).toBe(false);
  });
  it('accepts the OAuth2 password form field username for login', () => {
    expect(LoginBody.parse({ username: 'a@b.co', password: 'p' })).toEqual({ email: 'a@b.co', password: 'p' });
    expect(LoginBody.safeParse({ password: 'p' }).success).toBe(false);
  });
  it('bounds titles and message text', () => {
    expect(CreateSessionBody.safeParse({ title: 'x'.repeat(201) }).success).toBe(false);
    expect(CreateSessionBody.parse({})).toEqual({});
    expect(PostMessageBody.safeParse({ id: 'm', text: '' }).success).toBe(false);
    expect(PostMessageBody.safeParse({ text: 'hi' }).success).toBe(false);
  });
});
