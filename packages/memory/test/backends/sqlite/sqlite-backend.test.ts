import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { describeBackendContract } from '../../contract.js'
import { ensureBuilt, tempDir } from '../../helpers.js'

const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))

describeBackendContract(
  'sqlite (commits on the main thread)',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'memory', 'conversations.db')
    return { make: () => sqliteBackend({ path }), cleanup }
  },
  { persistent: true },
)

describeBackendContract(
  'sqlite (commits on the write worker, built)',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'conversations.db')
    return { make: () => new SqliteBackend({ path }, builtWorker), cleanup }
  },
  { persistent: true },
)

describeBackendContract(
  'sqlite (a database passed by the caller)',
  () => {
    const db = new Database(':memory:')
    return { make: () => sqliteBackend({ database: db }), cleanup: () => void db.close() }
  },
  { persistent: true },
)

describe('sqliteBackend options', () => {
  it('rejects bad options with a TypeError or RangeError naming the option and value', () => {
    expect(() => sqliteBackend(undefined as never)).toThrow(/options must be an object with path/)
    expect(() => sqliteBackend({})).toThrow(/path must be a non-empty string, got undefined/)
    expect(() => sqliteBackend({ path: '' })).toThrow(/path must be a non-empty string, got ""/)
    expect(() => sqliteBackend({ path: 'x.db', nope: 1 } as never)).toThrow(/unknown option "nope"/)
    expect(() => sqliteBackend({ database: {} as never })).toThrow(
      /database must be an open better-sqlite3 Database, got an object/,
    )
    const db = new Database(':memory:')
    expect(() => sqliteBackend({ path: 'x.db', database: db })).toThrow(
      /path and database cannot be used together/,
    )
    db.close()
    expect(() => sqliteBackend({ path: 'x.db', busyTimeoutMs: -1 })).toThrow(
      /busyTimeoutMs must be an integer from 0 to 2147483647, got -1/,
    )
    expect(() => sqliteBackend({ path: 'x.db', busyTimeoutMs: 'soon' as never })).toThrow(TypeError)
    expect(() => sqliteBackend({ path: 'x.db', worker: 1 as never })).toThrow(
      /worker must be a boolean, got 1/,
    )
  })
})
