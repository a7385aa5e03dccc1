/**
 * Text from the network as it may reach a terminal: control characters
 * (escape sequences that retitle the window or clear the screen, carriage
 * returns that overwrite a line) and line separators become '?'.
 */
export function printable (text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?') // eslint-disable-line no-control-regex
}
