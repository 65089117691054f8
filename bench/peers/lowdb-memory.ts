import { Low } from 'lowdb'
import { JSONFile } from 'lowdb/node'
import { type PythonMessage, pythonTimestamp } from '../baselines/python-memory.js'

interface Data {
  conversations: Record<string, PythonMessage[]>
}

/**
 * The store a bot author would reach for: lowdb's JSON file adapter, used as its README shows
 * (mutate `db.data`, then `await db.write()` after each message). lowdb rewrites the whole file
 * through a temp file and rename, without fsync.
 */
export class LowdbMemory {
  saves = 0
  private constructor(
    private readonly db: Low<Data>,
    private readonly maxMessages: number,
  ) {}

  static async open(path: string, maxMessages = 1000): Promise<LowdbMemory> {
    const db = new Low<Data>(new JSONFile<Data>(path), { conversations: {} })
    await db.read()
    return new LowdbMemory(db, maxMessages)
  }

  async addMessage(userId: string | number, role: string, content: string): Promise<PythonMessage> {
    const key = String(userId)
    const conversations = this.db.data.conversations
    let list = conversations[key]
    if (list === undefined) {
      list = []
      conversations[key] = list
    }
    const message = { role, content, timestamp: pythonTimestamp() }
    list.push(message)
    if (list.length > this.maxMessages) list.splice(0, list.length - this.maxMessages)
    await this.db.write()
    this.saves += 1
    return message
  }

  async close(): Promise<void> {}
}
