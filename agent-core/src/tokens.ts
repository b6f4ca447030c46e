import { AIMessage, type BaseMessage, type MessageContent } from '@langchain/core/messages';

/** Tokens added per message for role and framing, on top of its text. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** The plain text of message content (string, or the text blocks of a block array). */
export function contentText(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content
    .map((block) => (block.type === 'text' && typeof block.text === 'string' ? block.text : ''))
    .join('');
}

/** The estimate's characters per token. */
export const CHARS_PER_TOKEN = 4;

/** Estimated tokens of a string: about four characters per token. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function contentChars(content: MessageContent): number {
  return typeof content === 'string' ? content.length : JSON.stringify(content).length;
}

/** Estimated tokens of one message: its text, its tool calls' names and arguments, plus overhead. */
export function estimateMessageTokens(message: BaseMessage): number {
  let chars = contentChars(message.content);
  if (AIMessage.isInstance(message)) {
    for (const call of message.tool_calls ?? []) chars += call.name.length + JSON.stringify(call.args).length;
    for (const call of message.invalid_tool_calls ?? []) chars += (call.name ?? '').length + (call.args ?? '').length;
  }
  return Math.ceil(chars / 4) + MESSAGE_OVERHEAD_TOKENS;
}

/** Estimated tokens of a list of messages. */
export function estimateMessagesTokens(messages: readonly BaseMessage[]): number {
  return messages.reduce((sum, message) => sum + estimateMessageTokens(message), 0);
}
