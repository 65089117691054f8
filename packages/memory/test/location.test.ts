import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { locate } from '../src/location.js'

describe('locate: which backend a path names', () => {
  it.each([
    ['memory/conversations.json', { kind: 'file', path: 'memory/conversations.json' }],
    ['conversations', { kind: 'file', path: 'conversations' }],
    ['C:\\bot\\conversations.json', { kind: 'file', path: 'C:\\bot\\conversations.json' }],
    ['memory/conversations.db', { kind: 'sqlite', path: 'memory/conversations.db' }],
    ['memory/c.sqlite', { kind: 'sqlite', path: 'memory/c.sqlite' }],
    ['memory/C.SQLITE3', { kind: 'sqlite', path: 'memory/C.SQLITE3' }],
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['REDISS://user:pw@host:6380/2', { kind: 'redis', url: 'REDISS://user:pw@host:6380/2' }],
    ['REDIS://127.0.0.1:6379', { kind: 'redis', url: 'REDIS://127.0.0.1:6379' }],
    ['/srv/bot/conversations.json', { kind: 'file', path: '/srv/bot/conversations.json' }],
    ['./redis:127.0.0.1:6379', { kind: 'file', path: './redis:127.0.0.1:6379' }],
    ['memory/redis:x.db', { kind: 'sqlite', path: 'memory/redis:x.db' }],
    ['C:/bot/conversations.db', { kind: 'sqlite', path: 'C:/bot/conversations.db' }],
    ['d:conversations.json', { kind: 'file', path: 'd:conversations.json' }],
    ['redis', { kind: 'file', path: 'redis' }],
    ['redis.json', { kind: 'file', path: 'redis.json' }],
  ])('%s', (spec, expected) => {
    expect(locate(spec)).toEqual(expected)
  })

  it('a file: URL is the file it names', () => {
    const path = join('/tmp', 'bot', 'conversations.db')
    expect(locate(pathToFileURL(path).href)).toEqual({ kind: 'sqlite', path })
  })

  it.each(['http://127.0.0.1:6379', 'https://example.com/conversations.json', 'postgres://localhost/db'])(
    'refuses the URL %s with a TypeError that names it and says what to give',
    (spec) => {
      expect(() => locate(spec)).toThrow(TypeError)
      expect(() => locate(spec)).toThrow(
        new RegExp(
          `path "${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is a \\w+: URL, which is not a store.*redis:// URL`,
        ),
      )
      expect(existsSync(spec.split(':')[0] as string)).toBe(false)
    },
  )

  it.each([
    'redis:127.0.0.1:6379',
    'REDIS:127.0.0.1:6379',
    'redis//127.0.0.1:6379',
    'rediss//host:6380',
    'rediss:/h',
    'redis:/h',
    'localhost:6379',
    'file:conversations.db',
  ])('refuses %s, which looks like a mistyped URL, saying how to write either', (spec) => {
    expect(() => locate(spec)).toThrow(TypeError)
    expect(() => locate(spec)).toThrow(
      `path "${spec}" looks like a mistyped URL, not a file path: write a Redis URL as redis://host:6379 ` +
        `(or rediss://host:6380 for TLS); for a file of that name, write "./${spec}"`,
    )
  })

  it('a mistyped URL with a password does not show the password', () => {
    expect(() => locate('redis//bot:s3cret@host:6379')).toThrow('path "redis//bot:***@host:6379" looks like')
    expect(() => locate('redis:bot:s3cret@host:6379')).toThrow('path "redis:bot:***@host:6379" looks like')
  })

  it('a file: URL with a host is refused', () => {
    expect(() => locate('file://server/share/c.json')).toThrow(/is not a valid file: URL/)
  })
})

describe('openMemory({ path }) follows locate', () => {
  it('a URL that is not a store is refused before anything is created', async () => {
    const { openMemory } = await import('../src/index.js')
    await expect(openMemory({ path: 'http://127.0.0.1:6379', flushOnExit: false })).rejects.toThrow(
      /path "http:\/\/127\.0\.0\.1:6379" is a http: URL, which is not a store/,
    )
    expect(existsSync(join(process.cwd(), 'http:'))).toBe(false)
  })

  it.each(['redis:127.0.0.1:6379', 'redis//127.0.0.1:6379', 'rediss:/h'])(
    'the mistyped URL %s is refused and creates no file or folder',
    async (spec) => {
      const { openMemory } = await import('../src/index.js')
      await expect(openMemory({ path: spec, flushOnExit: false })).rejects.toThrow(
        /looks like a mistyped URL, not a file path: write a Redis URL as redis:\/\/host:6379/,
      )
      for (const made of [spec, `${spec}.journal`, spec.split('/')[0] as string]) {
        expect(existsSync(join(process.cwd(), made))).toBe(false)
      }
    },
  )

  it('a .db file opens the SQLite backend, a .json file the file backend', async () => {
    const { openMemory } = await import('../src/index.js')
    const { tempDir } = await import('./helpers.js')
    const dir = await tempDir()
    try {
      for (const [name, backend] of [
        ['c.db', 'sqlite'],
        ['c.SQLite3', 'sqlite'],
        ['c.json', 'file'],
      ] as const) {
        const memory = await openMemory({ path: join(dir.dir, name), flushOnExit: false })
        await memory.add(1, { role: 'user', content: name })
        expect((await memory.stats()).backend).toBe(backend)
        await memory.close()
        const again = await openMemory({ path: join(dir.dir, name), flushOnExit: false })
        expect((await again.history(1)).map((m) => m.content)).toEqual([name])
        await again.close()
      }
    } finally {
      await dir.cleanup()
    }
  })

  it('a REDIS:// URL (schemes are case-insensitive) opens the Redis backend', async () => {
    const { redisUnavailable, REDIS_URL } = await import('./backends/redis/cluster-servers.js')
    const { IN_CI } = await import('./helpers.js')
    const why = await redisUnavailable()
    if (why !== undefined) {
      if (IN_CI) throw new Error(why)
      return
    }
    const { openMemory } = await import('../src/index.js')
    const { redisBackend } = await import('../src/redis.js')
    const upper = REDIS_URL.replace(/^redis/, 'REDIS')
    const id = `locate-upper-${process.pid}-${Date.now()}`
    for (const memory of [
      await openMemory({ path: upper, flushOnExit: false, durability: 'strict' }),
      await openMemory({ backend: redisBackend({ url: upper }), flushOnExit: false, durability: 'strict' }),
    ]) {
      try {
        expect((await memory.stats()).backend).toBe('redis')
        await memory.add(id, { role: 'user', content: 'upper case' })
        expect((await memory.history(id)).map((m) => m.content)).toEqual(['upper case'])
      } finally {
        await memory.clear(id)
        await memory.close()
      }
    }
  })

  it('a redis:// URL opens the Redis backend', async () => {
    const { redisUnavailable, REDIS_URL } = await import('./backends/redis/cluster-servers.js')
    const { IN_CI } = await import('./helpers.js')
    const why = await redisUnavailable()
    if (why !== undefined) {
      if (IN_CI) throw new Error(why)
      return
    }
    const { openMemory } = await import('../src/index.js')
    const memory = await openMemory({ path: REDIS_URL, flushOnExit: false, durability: 'strict' })
    const id = `locate-${process.pid}-${Date.now()}`
    try {
      expect((await memory.stats()).backend).toBe('redis')
      await memory.add(id, { role: 'user', content: 'via a URL' })
      expect((await memory.history(id)).map((m) => m.content)).toEqual(['via a URL'])
    } finally {
      await memory.clear(id)
      await memory.close()
    }
  })
})

describe('backends given a URL where a file path belongs', () => {
  it.each([
    [
      'fileBackend',
      'redis://127.0.0.1:6379',
      /is a redis: URL, not a file path: for Redis, use redisBackend/,
    ],
    ['fileBackend', 'http://y/b.json', /is a http: URL, not a file path: give a file path/],
    ['sqliteBackend', 'http://x/a.db', /is a http: URL, not a file path/],
    ['sqliteBackend', 'rediss://host:6380', /is a rediss: URL, not a file path: for Redis/],
    ['fileBackend', 'file:///tmp/c.json', /is a file: URL, not a file path: give the file path itself/],
    // A password in a URL given by mistake never reaches the error.
    ['sqliteBackend', 'redis://bot:s3cret@host:6379', /"redis:\/\/bot:\*\*\*@host:6379" is a redis: URL/],
  ])('%s({ path: %s }) is a TypeError, and nothing is created', async (factory, path, message) => {
    const { fileBackend } = await import('../src/index.js')
    const { sqliteBackend } = await import('../src/sqlite.js')
    const make = factory === 'fileBackend' ? fileBackend : sqliteBackend
    expect(() => make({ path })).toThrow(TypeError)
    expect(() => make({ path })).toThrow(message)
    expect(existsSync(join(process.cwd(), `${path.split(':')[0]}:`))).toBe(false)
  })

  it.each([
    ['fileBackend', 'redis:127.0.0.1:6379'],
    ['fileBackend', 'redis//127.0.0.1:6379'],
    ['sqliteBackend', 'rediss:/h.db'],
  ])('%s({ path: %s }), a mistyped URL, is a TypeError', async (factory, path) => {
    const { fileBackend } = await import('../src/index.js')
    const { sqliteBackend } = await import('../src/sqlite.js')
    const make = factory === 'fileBackend' ? fileBackend : sqliteBackend
    expect(() => make({ path })).toThrow(TypeError)
    expect(() => make({ path })).toThrow(/looks like a mistyped URL, not a file path/)
  })

  it("SQLite's :memory: is not taken for a URL: it is refused for what it is", async () => {
    const { sqliteBackend } = await import('../src/sqlite.js')
    expect(() => sqliteBackend({ path: ':memory:' })).toThrow(/database in memory.*memoryBackend\(\)/)
    expect(() => sqliteBackend({ path: ':memory:' })).not.toThrow(/URL/)
  })
})

describe('a path ending in a separator names a directory', () => {
  it('openMemory refuses it, suggesting a file inside, and creates nothing', async () => {
    const { openMemory } = await import('../src/index.js')
    const { mkdtemp, readdir, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(join(tmpdir(), 'taurobot-memory-'))
    try {
      const path = `${join(dir, 'memory2')}/`
      const attempt = openMemory({ path, flushOnExit: false })
      await expect(attempt).rejects.toThrow(TypeError)
      await expect(attempt).rejects.toThrow(
        `path ${JSON.stringify(path)} ends in a separator, so it names a directory, not a file: ` +
          `give the store's file inside it, such as ${JSON.stringify(`${path}conversations.json`)}`,
      )
      expect(await readdir(dir)).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.each(['memory2/', 'file:///tmp/memory2/'])('locate(%s) refuses it too', (spec) => {
    expect(() => locate(spec)).toThrow(TypeError)
    expect(() => locate(spec)).toThrow(
      `names a directory, not a file: give the store's file inside it, such as ${JSON.stringify(`${spec.replace('file://', '')}conversations.json`)}`,
    )
  })

  it.each([
    ['fileBackend', 'memory2/', 'memory2/conversations.json'],
    ['sqliteBackend', 'memory2/', 'memory2/conversations.db'],
  ])('%s({ path: %s }) is a TypeError suggesting %s', async (factory, path, suggested) => {
    const { fileBackend } = await import('../src/index.js')
    const { sqliteBackend } = await import('../src/sqlite.js')
    const make = factory === 'fileBackend' ? fileBackend : sqliteBackend
    expect(() => make({ path })).toThrow(TypeError)
    expect(() => make({ path })).toThrow(
      `names a directory, not a file: give the store's file inside it, such as "${suggested}"`,
    )
  })
})
