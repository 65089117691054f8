import { fileURLToPath } from 'node:url'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { runBench } from './lib/bench.js'
import { formatMs } from './lib/format.js'
import { voiceReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

// Six sentences as a chat model writes them, with the Markdown it adds.
const reply = [
  'Il Dott. Rossi riceve il **martedì** e il giovedì.',
  'Per prenotare apri https://example.com/prenota e scegli un orario libero.',
  'La visita costa €45.50 e dura circa mezz’ora.',
  'Porta con te la tessera sanitaria e gli esami recenti.',
  'Se non puoi venire, disdici almeno un giorno prima.',
  'Buona giornata e a presto!',
].join(' ')
const TOKENS_PER_SECOND = 30
// About four characters per token, as the tokenizers of chat models average on Italian prose.
const tokens = reply.match(/[\s\S]{1,4}/g) ?? []
const firstSentenceEnd = reply.indexOf('giovedì.') + 'giovedì.'.length

interface Timeline {
  /** When the token that ends the first sentence was handed out. */
  firstSentenceMs: number
  /** When the next token, which shows that the full stop ends the sentence, was handed out. */
  nextTokenMs: number
  /** When the last token was handed out. */
  replyEndMs: number
}

/** The reply's tokens at the model's pace; records when the first sentence and the reply end. */
async function* model(t0: number, timeline: Timeline): AsyncGenerator<string> {
  let sent = 0
  for (const [i, token] of tokens.entries()) {
    const due = t0 + ((i + 1) * 1000) / TOKENS_PER_SECOND
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    if (sent >= firstSentenceEnd && timeline.nextTokenMs < 0) timeline.nextTokenMs = performance.now() - t0
    sent += token.length
    if (sent >= firstSentenceEnd && timeline.firstSentenceMs < 0)
      timeline.firstSentenceMs = performance.now() - t0
    yield token
  }
  timeline.replyEndMs = performance.now() - t0
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: stream() first clip',
  claim:
    'First clip of stream() ≤ 150 ms after the first sentence is complete (warm pool), against waiting for the whole reply (a 6-sentence reply arriving at 30 tokens/s).',
  notCovered: [
    'Sending the clips (Telegram upload) and how long the listener waits between clips.',
    'Other engines than the default espeak-ng WASM engine; WAV output (Ogg/Opus is measured, as bots send it).',
    'Model latency before the first token: both approaches start at the first token.',
  ],
  ready: voiceReady,
  async run(ctx) {
    const voice = new VoiceSystem({ language: 'it' })
    await voice.warmup({ allThreads: true })
    const samples = ctx.quick ? 3 : 10
    const streamAfterSentence: number[] = []
    const streamAfterNextToken: number[] = []
    const streamFromStart: number[] = []
    const wholeAfterSentence: number[] = []
    const wholeFromStart: number[] = []
    let clips = 0
    for (let i = 0; i < samples; i++) {
      // The two approaches alternate, so a burst of load on the shared machine hits both.
      {
        const timeline: Timeline = { firstSentenceMs: -1, nextTokenMs: -1, replyEndMs: -1 }
        const t0 = performance.now()
        let first: number | undefined
        clips = 0
        for await (const _ of voice.stream(model(t0, timeline), { format: 'ogg' })) {
          first ??= performance.now() - t0
          clips++
        }
        streamAfterSentence.push((first as number) - timeline.firstSentenceMs)
        streamAfterNextToken.push((first as number) - timeline.nextTokenMs)
        streamFromStart.push(first as number)
      }
      {
        const timeline: Timeline = { firstSentenceMs: -1, nextTokenMs: -1, replyEndMs: -1 }
        const t0 = performance.now()
        let text = ''
        for await (const token of model(t0, timeline)) text += token
        await voice.synthesize(text, { format: 'ogg' })
        const first = performance.now() - t0
        wholeAfterSentence.push(first - timeline.firstSentenceMs)
        wholeFromStart.push(first)
      }
      ctx.log(
        `sample ${i + 1}: stream first clip at ${formatMs(streamFromStart.at(-1) as number)}, whole reply at ${formatMs(wholeFromStart.at(-1) as number)}`,
      )
    }
    await voicePool.close()
    return {
      rows: [
        row({
          operation: 'first audio after the first sentence is complete, warm pool (ms)',
          unit: 'ms',
          better: 'lower',
          before: median(wholeAfterSentence),
          after: median(streamAfterSentence),
          spread: spreadText(streamAfterSentence, 'replies'),
          target: { op: '<=', value: 150 },
        }),
        row({
          operation: 'stream(): first audio after the token that follows the first sentence (ms)',
          unit: 'ms',
          better: 'lower',
          after: median(streamAfterNextToken),
          spread: spreadText(streamAfterNextToken, 'replies'),
        }),
        row({
          operation: 'first audio after the first token of the reply (ms)',
          unit: 'ms',
          better: 'lower',
          before: median(wholeFromStart),
          after: median(streamFromStart),
        }),
      ],
      notes: [
        `A ${reply.length}-character Italian reply of 6 sentences with Markdown, handed out in ${tokens.length} tokens of 4 characters at ${TOKENS_PER_SECOND} tokens/s by an async generator in the bench process; ${clips} clips. After warmup({ allThreads: true }), Ogg/Opus. "After": voice.stream(tokens), the time its first clip is yielded. "Before": the tokens collected and the whole reply given to synthesize(). The first sentence counts as complete when the token holding its full stop is handed out; stream() also waits for the next token (33 ms) to know that the full stop ends the sentence. Medians of ${samples} replies per approach, alternated.`,
      ],
    }
  },
})
