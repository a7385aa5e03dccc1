/**
 * The daemon's messages are written for a terminal: many end in the command
 * that helps ("…; see `cspace contacts list`"). For the refusals a page can
 * meet, that advice is replaced by where the page does the same ('' drops
 * it); any other message is shown as the daemon words it (some name a
 * command because only a terminal can do it).
 */
const IN_THE_PAGE = new Map<string, string>(Object.entries({
  OWN_ID_AS_CONTACT: '',
  CONTACT_KEY_EXISTS: 'to rename them, open their name under Contacts',
  CONTACT_NOT_FOUND: 'it may have been removed or renamed elsewhere; the list shows the contacts there are now',
  INVALID_USER_ID: 'ask them to copy the ID under "You" on their cspace page',
  KEY_ROTATED: 'the button below accepts it',
  PROMPT_NOT_FOUND: 'it was answered elsewhere, or it has expired',
  TRANSFER_NOT_FOUND: 'it may have been removed elsewhere',
  RULE_NOT_FOUND: 'it may have been removed elsewhere',
  FORWARD_NOT_FOUND: 'it may have been removed elsewhere',
  EXPOSE_NOT_FOUND: 'it may have been removed elsewhere'
}))

// the last clause or sentence, if it names a `cspace …` command: separators inside backquotes do not count
const COMMAND_CLAUSE = /([;.]) (?:(?![;.] )[^`]|`[^`]*`)*`cspace [^`]*`(?:[^`;]|`[^`]*`)*$/
const COMMAND_ASIDE = / \(`cspace [^`]*`\)/g

/** The daemon's message for error `code`, with terminal advice in the page's words. */
export function inPageWords (code: string, message: string): string {
  // a message too long for chat: the page sends files too
  if (code === 'CHAT_TOO_LONG') return message.replace(/, or send a file with `cspace send`\)$/, ', or send it as a file from Files)')
  const hint = IN_THE_PAGE.get(code)
  if (hint === undefined) return message
  const text = message.replace(COMMAND_ASIDE, '')
  const clause = COMMAND_CLAUSE.exec(text)
  if (clause == null) return text
  const kept = text.slice(0, clause.index)
  if (hint === '') return clause[1] === '.' ? `${kept}.` : kept
  return clause[1] === '.' ? `${kept}. ${hint[0].toUpperCase()}${hint.slice(1)}.` : `${kept}; ${hint}`
}
