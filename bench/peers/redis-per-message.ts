import type { Redis } from 'ioredis'

/**
 * The per-message Redis chat history most bot frameworks ship (LangChain's RedisChatMessageHistory
 * and its ports): one list per session, one RPUSH per message, LRANGE to read. Each add is its own
 * command and round trip.
 */
export class RedisPerMessageHistory {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
  ) {}

  async addMessage(sessionId: string | number, message: { role: string; content: string }): Promise<void> {
    await this.client.rpush(
      `${this.keyPrefix}${sessionId}`,
      JSON.stringify({ ...message, timestamp: new Date().toISOString() }),
    )
  }

  async getMessages(sessionId: string | number): Promise<Array<{ role: string; content: string }>> {
    const items = await this.client.lrange(`${this.keyPrefix}${sessionId}`, 0, -1)
    return items.map((s) => JSON.parse(s) as { role: string; content: string })
  }
}
