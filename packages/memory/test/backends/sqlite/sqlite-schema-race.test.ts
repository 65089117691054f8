import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { placeOf } from '../../../src/backends/sqlite/database-place.js'
import { checkSchema, ensureSchema } from '../../../src/backends/sqlite/schema.js'
import type { SqliteDatabase } from '../../../src/backends/sqlite/sqlite-database.js'
import { tempDir } from '../../helpers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/**
 * `db`, with `between` run once right after the header's application id was read: where another
 * process would create the store while this one is still looking at the file. Two processes
 * cannot be made to meet at that instant on purpose; a second connection in this process can.
 */
function interleaved(db: Database.Database, between: () => void): SqliteDatabase {
  let done = false
  return new Proxy(db, {
    get(target, key) {
      if (key !== 'pragma') {
        const value = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (source: string, options?: { simple?: boolean }) => {
        const result = target.pragma(source, options)
        if (source === 'application_id' && !done) {
          done = true
          between()
        }
        return result
      }
    },
  }) as unknown as SqliteDatabase
}

describe('two connections looking at a new database at once', () => {
  it('the one that checks while the other creates the tables never sees a foreign database', async () => {
    const { dir, cleanup } = await tempDir('taurobot-memory-schema-race-')
    cleanups.push(cleanup)
    const path = join(dir, 'new.db')
    const checking = new Database(path, { timeout: 0 })
    const creating = new Database(path, { timeout: 0 })
    try {
      const outcome = { created: false }
      const db = interleaved(checking, () => {
        try {
          ensureSchema(creating, placeOf(path))
          outcome.created = true
        } catch (error) {
          // Refused while the check holds its read: the creator's busy handler would wait.
          expect((error as { code?: string }).code).toBe('SQLITE_BUSY')
        }
      })
      // Either the check saw the file before the tables (0) or after them (3), never half of each.
      expect(checkSchema(db, placeOf(path))).toBe(outcome.created ? 3 : 0)
      expect(checking.inTransaction).toBe(false)
      // The creator gets its turn once the check is over, and then both see one store.
      if (!outcome.created) ensureSchema(creating, placeOf(path))
      expect(checkSchema(checking, placeOf(path))).toBe(3)
    } finally {
      checking.close()
      creating.close()
    }
  })
})
