import { fileURLToPath } from 'node:url'
import { speechText, VoiceSystem, voicePool } from '@taurobot/voice'
import { corpus } from '../packages/voice/test/speech-text/corpus.js'
import { runBench } from './lib/bench.js'
import { formatMs } from './lib/format.js'
import { voiceReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

/** Sentences a listener hears in a spoken text: each ends on a stop. */
function sentences(text: string): number {
  return text.split(/[.!?…:;]+(?:\s|$)/).filter((part) => part.trim() !== '').length
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: speechText, cost and audio length',
  claim:
    'speechText ≤ 20 µs per sentence; markup must not lengthen the audio: a reply with Markdown gives audio within 5% of the same reply written plain.',
  notCovered: [
    'Whether the words chosen are the right ones: the package tests check the corpus word by word and on espeak-ng’s phonemes.',
    'Languages other than Italian and English (they get only the language-neutral clean-up, which costs less).',
    'Audio length with other engines than the default espeak-ng WASM engine.',
  ],
  ready: voiceReady,
  async run(ctx) {
    // The table of emoji names is parsed on the first use of emoji: 'name'; that once is timed apart.
    const t0Names = performance.now()
    speechText('✅', { language: 'it', emoji: 'name' })
    speechText('✅', { language: 'en', emoji: 'name' })
    const namesFirstUseMs = performance.now() - t0Names
    // speechText rejects option names it does not know: it is given the reply's options only.
    const replies = corpus.map((reply) => ({
      ...reply,
      options: { language: reply.language },
      spoken: speechText(reply.markdown, { language: reply.language }),
    }))
    const sentenceCount = replies.reduce((sum, reply) => sum + sentences(reply.spoken), 0)
    const naming = corpus.map(({ markdown, language }) => ({
      markdown,
      options: { language, emoji: 'name' as const },
    }))
    const namedCount = naming.reduce(
      (sum, reply) => sum + sentences(speechText(reply.markdown, reply.options)),
      0,
    )
    // Cost: the whole corpus per sample, after a warm-up so the figures are of optimised code; the
    // default and emoji: 'name' passes alternate, so both see the same machine.
    const samples = ctx.quick ? 15 : 60
    const perSentenceMs: number[] = []
    const namedPerSentenceMs: number[] = []
    let sink = 0
    for (let i = 0; i < samples + 5; i++) {
      const t0 = performance.now()
      for (const reply of replies) sink += speechText(reply.markdown, reply.options).length
      const t1 = performance.now()
      for (const reply of naming) sink += speechText(reply.markdown, reply.options).length
      const t2 = performance.now()
      if (i >= 5) {
        perSentenceMs.push((t1 - t0) / sentenceCount)
        namedPerSentenceMs.push((t2 - t1) / namedCount)
      }
    }
    if (sink === 0) throw new Error('speechText returned nothing')
    ctx.log(`speechText: ${formatMs(median(perSentenceMs))} per sentence over ${sentenceCount} sentences`)
    ctx.log(
      `speechText, emoji: 'name': ${formatMs(median(namedPerSentenceMs))} per sentence over ${namedCount} sentences; names table parsed in ${formatMs(namesFirstUseMs)} on first use`,
    )

    // Audio length: each reply with a plain twin, spoken three ways with the real engine.
    const twins = replies.filter((reply) => reply.plain !== undefined)
    const voices = new Map<string, VoiceSystem>()
    const durationOf = async (text: string, language: string, input: 'markdown' | 'text') => {
      const voice = voices.get(language) ?? new VoiceSystem({ language: language.toLowerCase() })
      voices.set(language, voice)
      return (await voice.synthesize(text, { format: 'wav', input })).durationMs
    }
    const rawDeviation: number[] = []
    const cleanDeviation: number[] = []
    let plainTotal = 0
    let rawTotal = 0
    let cleanTotal = 0
    for (const reply of twins) {
      const plain = await durationOf(reply.plain as string, reply.language, 'text')
      const raw = await durationOf(reply.markdown, reply.language, 'text')
      const clean = await durationOf(reply.markdown, reply.language, 'markdown')
      plainTotal += plain
      rawTotal += raw
      cleanTotal += clean
      rawDeviation.push(Math.abs(raw / plain - 1) * 100)
      cleanDeviation.push(Math.abs(clean / plain - 1) * 100)
      ctx.log(
        `${reply.language}: plain ${formatMs(plain)}, as written ${formatMs(raw)}, through speechText ${formatMs(clean)}`,
      )
    }
    await voicePool.close()
    return {
      rows: [
        row({
          operation: `speechText per sentence (${replies.length} replies, ${sentenceCount} sentences, Italian and English)`,
          unit: 'ms',
          better: 'lower',
          after: median(perSentenceMs),
          spread: spreadText(perSentenceMs, 'passes over the corpus'),
          target: { op: '<=', value: 0.02 },
        }),
        row({
          operation: `speechText per sentence with emoji: 'name' (same corpus, ${namedCount} sentences)`,
          unit: 'ms',
          better: 'lower',
          after: median(namedPerSentenceMs),
          spread: spreadText(namedPerSentenceMs, 'passes over the corpus'),
          target: { op: '<=', value: 0.02 },
        }),
        row({
          operation: `audio length, Markdown reply vs the same reply plain: worst of ${twins.length} replies (% longer or shorter)`,
          unit: '%',
          better: 'lower',
          before: Math.max(...rawDeviation),
          after: Math.max(...cleanDeviation),
          target: { op: '<=', value: 5 },
        }),
        row({
          operation: `audio length, Markdown replies vs plain, all ${twins.length} together (% longer or shorter)`,
          unit: '%',
          better: 'lower',
          before: Math.abs(rawTotal / plainTotal - 1) * 100,
          after: Math.abs(cleanTotal / plainTotal - 1) * 100,
          target: { op: '<=', value: 5 },
        }),
      ],
      notes: [
        `Emoji: 'name': the same corpus read with emoji named (${corpus.filter((reply) => /\p{Extended_Pictographic}/u.test(reply.markdown)).length} of its replies hold emoji), in passes alternating with the default ones; the names table (English and Italian) is parsed once, on first use, which took ${formatMs(namesFirstUseMs)} and is not in the per-sentence figure.`,
        'Cost: speechText over every reply of the package’s test corpus (lists, tables, code, links, emoji, dates, money), in this process after 5 warm-up passes; the figure is the median pass divided by the number of sentences in the spoken output.',
        `Audio: each corpus reply that has a plain twin (the same reply as a person would write it without markup), synthesized as WAV by VoiceSystem with the default engine: the plain twin and the Markdown reply with input: 'text' (the reply as written is "before": what the engine said until now), and the Markdown reply with the default input: 'markdown' ("after"). Speech in all: plain ${formatMs(plainTotal)}, as written ${formatMs(rawTotal)}, through speechText ${formatMs(cleanTotal)}.`,
      ],
    }
  },
})
