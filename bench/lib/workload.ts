// Deterministic chat traffic: Italian user messages and assistant replies of realistic length,
// interleaved across users the way a bot receives them.

const USER_LINES = [
  'Ciao! Come stai oggi?',
  'Mi puoi consigliare un ristorante a Bologna per stasera?',
  'Che tempo farà domani a Milano? Devo andare in bicicletta.',
  'Ricordami di chiamare la mamma alle sei, per favore.',
  'Qual è la differenza tra perché e poiché?',
  'Traduci in inglese: la città è più bella di notte.',
  'Grazie mille, sei stato utilissimo!',
  'Scrivi una breve poesia sul caffè del mattino.',
]

const ASSISTANT_LINES = [
  'Ciao! Sto bene, grazie. Dimmi pure come posso aiutarti oggi: posso rispondere a domande, tradurre testi o ricordarti le cose da fare.',
  'A Bologna ti consiglio una trattoria in centro: tagliatelle al ragù, tortellini in brodo e un bicchiere di Sangiovese. Ti conviene prenotare, il venerdì sera è sempre pieno.',
  'Domani a Milano è previsto cielo poco nuvoloso al mattino e qualche pioggia nel pomeriggio, con temperature tra 9 e 15 gradi. Porta una giacca impermeabile.',
  'Certo, alle sei ti ricorderò di chiamare la mamma. Vuoi che te lo ricordi anche domani alla stessa ora?',
  '“Perché” introduce una causa o una domanda; “poiché” introduce solo una causa ed è più formale. Esempio: non esco perché piove; poiché piove, resto a casa.',
  'The city is more beautiful at night.',
  'Di niente, è stato un piacere! Se ti serve altro, scrivimi quando vuoi.',
  'Nel silenzio del mattino,\nsale il profumo del caffè:\nuna tazza, un sorriso,\ne il giorno comincia con te.',
]

/** One message of the stream: who sent it and what it says. */
export interface ChatEvent {
  user: number
  role: 'user' | 'assistant'
  content: string
}

/** A small seeded PRNG (mulberry32), so every run sends the same traffic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `users × perUser` messages, interleaved: user turns alternate with assistant replies per user,
 * and users take turns in a shuffled order, as in a bot serving many chats at once. Telegram-like
 * numeric ids.
 */
export function chatTraffic(users: number, perUser: number, seed = 42): ChatEvent[] {
  const random = prng(seed)
  const sent = new Array<number>(users).fill(0)
  const events: ChatEvent[] = []
  const total = users * perUser
  while (events.length < total) {
    const user = Math.floor(random() * users)
    const n = sent[user] ?? 0
    if (n >= perUser) continue
    sent[user] = n + 1
    const role = n % 2 === 0 ? 'user' : 'assistant'
    const lines = role === 'user' ? USER_LINES : ASSISTANT_LINES
    const content = lines[Math.floor(random() * lines.length)] as string
    events.push({ user, role, content })
  }
  return events
}

/** The Telegram-style id of user number `i`. */
export function userId(i: number): number {
  return 100_000_000 + i * 7919
}

/** The average size of a message serialized on its own (compact JSON, UTF-8), with a timestamp. */
export function averageMessageBytes(events: readonly ChatEvent[]): number {
  let total = 0
  for (const e of events) {
    total += Buffer.byteLength(
      JSON.stringify({ role: e.role, content: e.content, timestamp: '2026-01-01T00:00:00.000Z' }),
    )
  }
  return total / events.length
}
