import type { DatabaseSync, StatementSync } from 'node:sqlite'

/**
 * Prepared statements of one node:sqlite database, compiled once per SQL
 * text and reused: preparing costs more than running a small query (a tenth
 * of a millisecond on the warm connect path, which looks a contact and the
 * rules up every time; the key server prepares on every request).
 */
export class StatementCache {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()

  constructor (db: DatabaseSync) {
    this.db = db
  }

  get (sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (statement == null) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }
}
