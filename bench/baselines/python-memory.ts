import { existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import writeFileAtomic from 'write-file-atomic'

/** A message as the Python bot stored it. */
export interface PythonMessage {
  role: string
  content: string
  timestamp: string
}

export interface PythonMemoryOptions {
  path: string
  /**
   * 1: the original bot, which rewrote the file after every message and renamed the previous file
   * to `.bak` before each save. 5: its fix, which saves every 5 messages and makes the `.bak` once.
   */
  saveEvery: 1 | 5
  /** Messages kept per user; the oldest are trimmed. */
  maxMessages?: number
}

/**
 * The Python bot's conversation memory, ported to TypeScript as faithfully as the language allows:
 * `{userId: [messages]}` in memory, the whole store dumped as JSON with `indent=2` (non-ASCII kept)
 * on save, written with write-file-atomic (temp file, fsync, rename) as both of its versions are
 * compared here.
 */
export class PythonJsonMemory {
  readonly path: string
  readonly saveEvery: 1 | 5
  readonly maxMessages: number
  conversations: Record<string, PythonMessage[]> = {}
  /** Whole-file writes performed. */
  saves = 0
  /** Saves that failed; like the Python bot, a failed save is logged and the bot carries on. */
  errors = 0
  private unsaved = 0
  private bakMade = false

  constructor(options: PythonMemoryOptions) {
    this.path = options.path
    this.saveEvery = options.saveEvery
    this.maxMessages = options.maxMessages ?? 1000
    if (existsSync(this.path)) {
      const data = JSON.parse(readFileSync(this.path, 'utf8')) as {
        conversations?: Record<string, PythonMessage[]>
      }
      this.conversations = data.conversations ?? {}
    }
  }

  async addMessage(userId: string | number, role: string, content: string): Promise<PythonMessage> {
    const key = String(userId)
    let list = this.conversations[key]
    if (list === undefined) {
      list = []
      this.conversations[key] = list
    }
    const message = { role, content, timestamp: pythonTimestamp() }
    list.push(message)
    if (list.length > this.maxMessages) list.splice(0, list.length - this.maxMessages)
    this.unsaved += 1
    if (this.unsaved >= this.saveEvery) await this.save()
    return message
  }

  async save(): Promise<void> {
    this.unsaved = 0
    try {
      await this.write()
    } catch {
      this.errors += 1
    }
  }

  private async write(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    if (existsSync(this.path)) {
      if (this.saveEvery === 1) {
        // The original: os.rename(file, file + '.bak') before every save.
        await rename(this.path, `${this.path}.bak`)
      } else if (!this.bakMade) {
        await copyFile(this.path, `${this.path}.bak`)
      }
    }
    this.bakMade = true
    const data = { conversations: this.conversations, last_updated: pythonTimestamp() }
    await writeFileAtomic(this.path, JSON.stringify(data, null, 2))
    this.saves += 1
  }

  async close(): Promise<void> {
    if (this.unsaved > 0) await this.save()
  }
}

/** `datetime.now().isoformat()`: local time with microseconds and no zone. */
export function pythonTimestamp(date = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}000`
}
