// Real Redis servers for the tests: the shared one at REDIS_URL, and redis-server processes the
// tests start themselves (a 3-master cluster, a server to kill and restart).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const run = promisify(execFile)

/** Why the tests cannot use Redis at `url`, or undefined when it answers PING. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return `no Redis answers at ${url} (${error instanceof Error ? error.message : String(error)}); set REDIS_URL`
  } finally {
    client.disconnect()
  }
}

/** Why redis-server cannot be started here, or undefined. */
export async function redisServerMissing(): Promise<string | undefined> {
  try {
    await run('redis-server', ['--version'])
    await run('redis-cli', ['--version'])
    return undefined
  } catch {
    return 'redis-server and redis-cli are not installed'
  }
}

/** Deletes every key under a prefix (tests only: the backend itself never scans the keyspace). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      for (const key of keys) await node.del(key)
    } while (cursor !== '0')
  }
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()))
    })
  })
}

async function waitForPing(port: number, process: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (process.exitCode !== null)
      throw new Error(`redis-server on port ${port} exited (${process.exitCode})`)
    try {
      const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'])
      // A server started with --requirepass answers, but refuses PING without the password.
      if (stdout.trim() === 'PONG' || stdout.startsWith('NOAUTH')) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server on port ${port} did not answer PING`)
}

/** A redis-server process on a loopback port, with its own data directory. */
export class RedisServer {
  private process: ChildProcess | undefined

  private constructor(
    readonly port: number,
    readonly dir: string,
    private extra: string[],
  ) {}

  /** Starts a server; `extra` are redis-server arguments such as `--appendonly yes`. */
  static async start(extra: string[] = [], port?: number): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'taurobot-redis-'))
    const server = new RedisServer(port ?? (await freePort()), dir, extra)
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /**
   * Starts the server again on the same port and directory (after `kill()`), with other
   * redis-server arguments when `extra` is given.
   */
  async restart(extra?: string[]): Promise<void> {
    if (extra !== undefined) this.extra = extra
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '']
    if (!this.extra.includes('--appendonly')) args.push('--appendonly', 'no')
    const child = spawn('redis-server', [...args, ...this.extra], { stdio: 'ignore' })
    this.process = child
    await waitForPing(this.port, child)
  }

  /** Kills the server with SIGKILL, as a crash would, and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.process
    this.process = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP')
  }

  /** Lets a paused server run again. */
  resume(): void {
    this.process?.kill('SIGCONT')
  }

  async stop(): Promise<void> {
    this.resume()
    await this.kill()
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** A local Redis Cluster of three masters, created with `redis-cli --cluster create`. */
export class LocalCluster {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(): Promise<LocalCluster> {
    const servers: RedisServer[] = []
    try {
      for (let i = 0; i < 3; i++) {
        servers.push(
          await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']),
        )
      }
      const addresses = servers.map((s) => `127.0.0.1:${s.port}`)
      await run('redis-cli', [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ])
      for (const server of servers) await waitForClusterOk(server.port)
      return new LocalCluster(servers)
    } catch (error) {
      for (const server of servers) await server.stop()
      throw error
    }
  }

  get nodes(): Array<{ host: string; port: number }> {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }))
  }

  async stop(): Promise<void> {
    for (const server of this.servers) await server.stop()
  }
}

async function waitForClusterOk(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info'])
    if (stdout.includes('cluster_state:ok')) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`the cluster node on port ${port} never reached cluster_state:ok`)
}
