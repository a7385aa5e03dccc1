/** apps/chat — text chat (service `chat`): the wire format, the message store, delivery with retries, and the background host. */
export { ChatHost, startChatHost, CHAT_SERVICE, MAX_CHAT_CONNECTIONS_PER_PEER, type ChatEvent, type TypingEvent, type WaitingEvent } from './chat-host.js'
export { ChatStore, type ChatMessage } from './chat-store.js'
export { type NamedMessage } from './chat-control.js'
export { parseChatFrame, encodeChatFrame, checkText, newMessageId, ChatWireError, MAX_TEXT_BYTES, MAX_FRAME_BYTES, CHAT_WIRE_VERSION, type ChatFrame } from './chat-wire.js'
export { runChatWindow, type ChatWindowOptions } from './chat-terminal.js'
export { sendOnce, readInbox, formatInbox, unreadCounts, MessageNotDelivered, type Inbox, type ChatRequest, type SendOutcome } from './chat-script.js'
export { safeText, formatMessage } from './chat-format.js'
