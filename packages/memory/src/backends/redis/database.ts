// Which numbered database the backend writes to, and what to say when the server refuses it.
// ioredis sends SELECT at every connect but only reports a refusal as an 'error' event and goes on
// with the connection on database 0, so without these checks a URL such as
// redis://host:6379/99 on a server with 16 databases would write to database 0.
import type { Redis } from 'ioredis'
import { MemoryError } from '../../errors.js'
import { redactText } from '../../redact.js'
import { errorText, isReplyError, safeCause } from './redis-errors.js'
import type { RedisClient } from './redis-options.js'

/** The database a standalone client is set up for (its `db` option, or the URL's path); 0 for a Cluster. */
export function configuredDatabase(client: RedisClient): number {
  if (client.isCluster) return 0
  const db = (client as Redis).options.db
  return typeof db === 'number' && Number.isInteger(db) ? db : 0
}

/** True for the server's refusal of a SELECT (ioredis attaches the failed command to the error). */
export function isSelectRefused(error: unknown): boolean {
  if (!isReplyError(error)) return false
  const command = (error as { command?: { name?: unknown } }).command
  return typeof command?.name === 'string' && command.name.toLowerCase() === 'select'
}

/**
 * The error for a database the server refused to select. `when` says when it happened ("at open",
 * "after reconnecting"), `after` what became of the data ("nothing was written").
 */
export function databaseRefused(
  where: string,
  db: number,
  error: unknown,
  when: string,
  after: string,
): MemoryError {
  const answer = redactText(errorText(error)).replace(/\.$/, '')
  return new MemoryError(
    'backend-unavailable',
    `Redis at ${where} refused to select database ${db} ${when}: ${answer}; ${after}. ` +
      'A server has the databases its "databases" setting allows (16 by default, numbered from 0): ' +
      `use one of them (redis://host:6379/0 to /15 by default), or raise "databases" in the server's configuration.`,
    { cause: safeCause(error), details: { url: where, db } },
  )
}
