import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const botDir = fileURLToPath(new URL('..', import.meta.url))

export interface BotProcess {
  url: string
  port: number
  child: ChildProcess
  /** Everything the bot printed so far, stdout and stderr. */
  output(): string
  /** Settles when the process has exited, without sending it anything. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` and resolves once the process has exited by itself. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Settings the tests choose; the parent's own bot settings (REDIS_URL in CI...) are not inherited. */
const BOT_VARIABLES = [
  'PORT',
  'MEMORY_DIR',
  'MEMORY_BACKEND',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'OLLAMA_HOST',
  'OLLAMA_MODEL',
  'CONTEXT_MESSAGES',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_API_ROOT',
  'VOICE_LANGUAGE',
  'RATE_LIMIT_PER_MINUTE',
  'VOICE_RATE_LIMIT_PER_MINUTE',
  'STARTUP_TIMEOUT_SECONDS',
  'HTTP_HEADERS_TIMEOUT_SECONDS',
  'HTTP_REQUEST_TIMEOUT_SECONDS',
  'HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
  'HTTP_MAX_CONNECTIONS',
]

/** A bot process that may not be ready (or ever be): its output so far and its exit. */
export interface SpawnedBot {
  child: ChildProcess
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `npm start`'s entry point as a real child process, without waiting for anything. */
export function spawnBotProcess(env: Record<string, string>): SpawnedBot {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !BOT_VARIABLES.includes(k)),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: botDir,
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  // 'close' comes after the output streams end, so output() is complete once `exited` settles.
  const exited = (once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>).then(
    ([code, signal]) => ({ code, signal }),
  )
  return { child, output: () => output, exited }
}

/** Starts `npm start`'s entry point as a real child process and waits for the URL it prints. */
export async function startBotProcess(env: Record<string, string>, timeoutMs = 90_000): Promise<BotProcess> {
  const { child, output: read, exited } = spawnBotProcess(env)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the bot printed no URL within ${timeoutMs} ms:\n${read()}`))
    }, timeoutMs)
    const check = () => {
      const output = read()
      const found = /Open (http:\/\/127\.0\.0\.1:\d+\/) in your browser/.exec(output)?.[1]
      // The banner may arrive in several chunks; tests read its later lines, so wait for its end.
      if (found === undefined || !output.includes('Press Ctrl+C to stop.')) return
      clearTimeout(timer)
      resolve(found)
    }
    child.stdout?.on('data', check)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the bot exited (${code ?? signal}) before it was ready:\n${read()}`))
    })
  })
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: read,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
