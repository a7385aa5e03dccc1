/** contacts — the user's address book: unique local names for public keys, and their verification state. */
export { ContactBook, type Contact, type ContactPin } from './contact-book.js'
export { validateContactName, contactNameKey } from './contact-name.js'
export { refuseOwnId } from './own-id.js'
export * from './errors.js'
