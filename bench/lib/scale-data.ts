// Large conversation stores in the Python bot's own format, generated straight to disk (not through
// any store), so the scale bench can measure opening them without paying for writing them.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { prng } from './workload.js'

const WORDS = (
  'ciao come stai oggi grazie mille domani tempo pioggia sole Milano Bologna Roma ristorante ' +
  'consiglio ricetta caffè mattina sera lavoro scuola libro film musica treno biglietto orario ' +
  'perché poiché quindi però anche sempre mai molto poco più meno bello buono grande piccolo ' +
  'ricordami chiamare mamma papà amico festa compleanno regalo città notte giorno settimana'
).split(' ')

/** A message text of 40 to 360 characters, about 200 on average. */
function sentence(random: () => number): string {
  const target = 40 + Math.floor(random() * 320)
  let text = ''
  while (text.length < target)
    text += `${text === '' ? '' : ' '}${WORDS[Math.floor(random() * WORDS.length)]}`
  return `${text[0]?.toUpperCase()}${text.slice(1)}.`
}

/** Telegram-like numeric ids, as the Python bot keys its conversations. */
export function scaleUserId(user: number): string {
  return String(100_000_000 + user * 7919)
}

/**
 * Writes `users × perUser` messages as the Python bot's `json.dump(data, indent=2,
 * ensure_ascii=False)` does: `{"conversations": {id: [message, ...]}, "last_updated": ...}`.
 * Returns the file's size in bytes.
 */
export function writePythonConversations(path: string, users: number, perUser: number, seed = 7): number {
  const random = prng(seed)
  const fd = openSync(path, 'w')
  let bytes = 0
  const put = (text: string) => {
    const buffer = Buffer.from(text)
    let written = 0
    while (written < buffer.length) written += writeSync(fd, buffer, written)
    bytes += buffer.length
  }
  try {
    put('{\n  "conversations": {\n')
    const start = Date.UTC(2025, 0, 1)
    for (let user = 0; user < users; user++) {
      const parts: string[] = [`    ${JSON.stringify(scaleUserId(user))}: [\n`]
      for (let i = 0; i < perUser; i++) {
        const when = new Date(start + user * 1000 + i * 60_000).toISOString().replace('Z', '000')
        parts.push(
          `      {\n        "role": "${i % 2 === 0 ? 'user' : 'assistant'}",\n        "content": ${JSON.stringify(sentence(random))},\n        "timestamp": "${when}"\n      }${i + 1 < perUser ? ',' : ''}\n`,
        )
      }
      parts.push(`    ]${user + 1 < users ? ',' : ''}\n`)
      put(parts.join(''))
    }
    put('  },\n  "last_updated": "2025-10-12T09:15:03.000001"\n}')
    // On disk before anything is measured, as a bot's file written long ago is: otherwise the
    // first fsync a store makes after open can wait behind the writeback of this whole file.
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return bytes
}

/** The same messages as {@link writePythonConversations}, one conversation at a time. */
export function* pythonConversations(
  users: number,
  perUser: number,
  seed = 7,
): Generator<{ id: string; messages: Array<{ role: string; content: string; timestamp: string }> }> {
  const random = prng(seed)
  const start = Date.UTC(2025, 0, 1)
  for (let user = 0; user < users; user++) {
    const messages = []
    for (let i = 0; i < perUser; i++) {
      messages.push({
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: sentence(random),
        timestamp: new Date(start + user * 1000 + i * 60_000).toISOString().replace('Z', '000'),
      })
    }
    yield { id: scaleUserId(user), messages }
  }
}
