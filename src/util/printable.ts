// once per module, not per call: a connect's status message goes through here
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g // eslint-disable-line no-control-regex

/**
 * Text from the network as it may reach a terminal, on one line: control
 * characters (escape sequences that retitle the window or clear the screen,
 * carriage returns that overwrite a line), line separators and the bidi
 * overrides that make text read backwards become '?'. (Chat messages keep
 * their newlines: apps/chat/chat-format.ts `safeText`.)
 */
export function printable (text: string): string {
  return text.replace(UNPRINTABLE, '?')
}
