import { describe, expect, it } from 'vitest'
import { speechText } from '../../src/index.js'

const it_ = (text: string) => speechText(text, { language: 'it' })
const en = (text: string) => speechText(text, { language: 'en' })
const us = (text: string) => speechText(text, { language: 'en-US' })

describe('speechText', () => {
  it('reads the example of the issue as a person would', () => {
    expect(it_('**Certo!** Apri https://example.com/guida ✅')).toBe('Certo! Apri example.com.')
  })

  it('validates its arguments, naming them', () => {
    expect(() => speechText(42 as unknown as string)).toThrow(
      new TypeError('text must be a string, got number'),
    )
    expect(() => speechText('a', null as unknown as object)).toThrow(
      /speechText options must be an object, got null/,
    )
    expect(() => speechText('a', { language: '' })).toThrow(TypeError)
    expect(() => speechText('a', { language: 3 as unknown as string })).toThrow(
      /language must be a non-empty string/,
    )
    expect(() => speechText('a', { language: 'it!' })).toThrow(
      new RangeError(
        'language must be a language espeak-ng knows (e.g. "it", "it-IT", "en-us"; 150 in all), got "it!": did you mean "it"?',
      ),
    )
  })

  it('rejects the languages VoiceSystem rejects, with the same error', async () => {
    const { VoiceSystem } = await import('../../src/index.js')
    for (const language of ['qq', 'itl-IT', 'fil', 'klingon']) {
      const fromVoice = (() => {
        try {
          new VoiceSystem({ language })
        } catch (error) {
          return error
        }
      })()
      expect(fromVoice).toBeInstanceOf(RangeError)
      expect(() => speechText('hi', { language })).toThrow(fromVoice as RangeError)
    }
  })

  it('rejects option names it does not know, with the one probably meant, as VoiceSystem does', () => {
    expect(() => speechText('a', { emojis: 'name' } as never)).toThrow(
      new TypeError('unknown option "emojis" of speechText(): did you mean emoji?'),
    )
    expect(() => speechText('a', { lang: 'it' } as never)).toThrow(
      new TypeError('unknown option "lang" of speechText(): did you mean language?'),
    )
    // Two letters swapped is one typo, not two.
    expect(() => speechText('a', { emjoi: 'name' } as never)).toThrow(
      new TypeError('unknown option "emjoi" of speechText(): did you mean emoji?'),
    )
    expect(() => speechText('a', { markdown: 'a' } as never)).toThrow(
      new TypeError('unknown option "markdown" of speechText(): known options: language, emoji'),
    )
  })

  it('accepts language codes in any case, with a region, and defaults to English', () => {
    for (const language of ['it', 'IT', 'it-IT', 'it_it', 'it-CH']) {
      expect(speechText('il 3/4/2025', { language })).toBe('il 3 aprile 2025.')
    }
    expect(speechText('on 3/4/2025')).toBe('on the 3rd of April 2025.')
    expect(speechText('on 3/4/2025', { language: 'en-gb' })).toBe('on the 3rd of April 2025.')
    expect(speechText('on 3/4/2025', { language: 'EN-us' })).toBe('on March 4th, 2025.')
    expect(speechText('on 3/4/2025', { language: 'en-us-nyc' })).toBe('on March 4th, 2025.')
  })

  it('gives other languages the language-neutral clean-up', () => {
    expect(
      speechText('**Hola** ¡mira https://ejemplo.es/guia! 😀\n\n```\nx = 1\n```', { language: 'es' }),
    ).toBe('Hola ¡mira ejemplo.es!')
    expect(speechText('# Titre\n\n- *un*\n- deux', { language: 'fr' })).toBe('Titre. un. deux.')
  })

  it('returns an empty string when nothing is left to say', () => {
    expect(it_('✅🎉')).toBe('')
    expect(it_('   ')).toBe('')
    expect(en('---')).toBe('')
    expect(speechText('```\ncode\n```', { language: 'de' })).toBe('')
  })

  describe('Markdown', () => {
    it('drops emphasis, strikethrough and heading marks', () => {
      expect(en('# Title\n\n***very*** __bold__ _it_ ~~gone~~ ok')).toBe('Title. very bold it gone ok.')
      expect(en('## Closed heading ##')).toBe('Closed heading.')
    })

    it('keeps underscores and stars inside words as pauses, not names', () => {
      expect(en('snake_case and 2*3')).toBe('snake case and 2 3.')
    })

    it('reads numbered lists with their numbers and a pause, bullets without marks', () => {
      expect(it_('1. uno\n2) due\n- tre\n* quattro\n+ cinque\n• sei')).toBe(
        '1, uno. 2, due. tre. quattro. cinque. sei.',
      )
    })

    it('speaks link text and image alt text, never their addresses', () => {
      expect(en('See [the guide](https://a.example/x_(y) "Title") and ![a cat](cat.png).')).toBe(
        'See the guide and a cat.',
      )
    })

    it('reads block quotes, nested too, as text', () => {
      expect(en('> One\n>> Two')).toBe('One. Two.')
    })

    it('reads a table row by row, cells apart, without the separator row', () => {
      expect(en('| a | b |\n|:-|-:|\n| 1 | 2 |')).toBe('a, b. 1, 2.')
    })

    it('leaves out fenced code with a phrase in the language, and reads inline code as words', () => {
      expect(it_('Prova:\n```js\nlet a = 1\n```\nfatto')).toBe('Prova: Codice omesso. fatto.')
      expect(en('~~~~\ncode\n~~~\nstill code\n~~~~\nafter')).toBe('Code omitted. after.')
      expect(en('Call `fs.readFile(path)` now')).toBe('Call fs.readFile path now.')
    })

    it('removes HTML tags and decodes entities', () => {
      expect(en('<p>Hello<br>world</p> &amp; &#8364; &quot;hi&quot; <!-- note -->')).toBe(
        'Hello, world and € "hi".',
      )
    })

    it('keeps escaped characters as text, not markup', () => {
      expect(en('\\*not bold\\* and \\[not a link\\](x)')).toBe('not bold and not a link (x).')
    })

    it('drops unclosed or stray marks instead of reading them', () => {
      expect(en(`${'*'.repeat(50)}a **b _c \`d [e ~~f`)).toBe('a b c d e f.')
      expect(en('[[[x]]] ((y)) [z](')).toBe('x ((y)) z (.')
    })

    it('joins wrapped lines and keeps lines that end a thought apart', () => {
      expect(en('first line\ncontinues here\nNew thought')).toBe('first line continues here. New thought.')
    })
  })

  describe('addresses', () => {
    it('says only the host of a web address', () => {
      expect(en('Go to https://user@www.example.com:8080/a/b?c=d#e, then http://x.org.')).toBe(
        'Go to example.com, then x.org.',
      )
      expect(en('Try www.example.co.uk/path.')).toBe('Try example.co.uk.')
      expect(en('(see https://example.com/a)')).toBe('(see example.com).')
    })

    it('reads an e-mail address as a person would', () => {
      expect(it_('Scrivi a mario.rossi@posta.it')).toBe('Scrivi a mario rossi chiocciola posta.it.')
      expect(en('mailto:jo_doe+news@mail.example.com')).toBe('jo doe news at mail.example.com.')
    })
  })

  describe('emoji', () => {
    it('drops emoji with their modifiers, flags, keycaps and symbols the engine would name', () => {
      expect(en('ok 👍🏽 🇮🇹 👨‍👩‍👧 ❤️ 3️⃣ ★ ✔ done')).toBe('ok 3 done.')
      expect(en('yes → no')).toBe('yes, no.')
      // The pause an arrow leaves at the end of a block is no comma before its stop.
      expect(en('Next step →')).toBe('Next step.')
      expect(en('a → b →')).toBe('a, b.')
      expect(en('a -> b ->\n\nc =>')).toBe('a, b. c.')
      expect(it_('Fatto →!')).toBe('Fatto!')
      // One that stood between two words leaves them apart; next to a stop, nothing is left.
      expect(en('Ok!🎉See you')).toBe('Ok! See you.')
      expect(en('done🎉.')).toBe('done.')
    })

    const named = (text: string, language: string) => speechText(text, { language, emoji: 'name' })

    it('still drops them by default', () => {
      expect(speechText('Fatto ✅', { language: 'it' })).toBe('Fatto.')
      expect(speechText('Fatto ✅', { language: 'it', emoji: 'drop' })).toBe('Fatto.')
      expect(speechText('Fatto ✅', { language: 'it', emoji: undefined })).toBe('Fatto.')
    })

    it('names them in English and Italian with emoji: "name", set apart by commas', () => {
      expect(named('Fatto ✅', 'it')).toBe('Fatto, segno di spunta.')
      expect(named('Done ✅', 'en')).toBe('Done, check mark.')
      expect(named('Ottimo 👍 ci vediamo domani', 'it')).toBe('Ottimo, pollice in su, ci vediamo domani.')
      expect(named('🚀 Launch day', 'en-US')).toBe('Rocket. Launch day.')
      expect(named('Ottimo! 🎉 A domani.', 'it-IT')).toBe('Ottimo! Spara coriandoli. A domani.')
      expect(named('(ok 😀)', 'en')).toBe('(ok, grinning face).')
      expect(named('✅🎉', 'it')).toBe('Segno di spunta, spara coriandoli.')
      expect(named('**Certo!** Apri https://example.com/guida ✅', 'it')).toBe(
        'Certo! Apri example.com, segno di spunta.',
      )
    })

    it('reads emoji after a sentence end as a sentence of their own, capitalised', () => {
      expect(named('Great job! 🎉 See you tomorrow. 👋', 'en')).toBe(
        'Great job! Party popper. See you tomorrow. Waving hand.',
      )
      expect(named('Fatto. ✅', 'it')).toBe('Fatto. Segno di spunta.')
      expect(named('Fatto! 🎉🎉 👍🏽 Ci vediamo.', 'it')).toBe(
        'Fatto! Spara coriandoli, pollice in su. Ci vediamo.',
      )
      // Followed by lowercase words, they go on with them.
      expect(named('Ok. 👍 grazie', 'it')).toBe('Ok. Pollice in su, grazie.')
      expect(named('Ok. 💰 €5', 'it')).toBe('Ok. Sacco di soldi, 5 euro.')
      // A line that ends on an emoji: its stop is not said twice.
      expect(named('Great! 🎉\nSee you.', 'en')).toBe('Great! Party popper. See you.')
      expect(en('Great! 🎉\nSee you.')).toBe('Great! See you.')
    })

    it('sets a name apart by a comma from a number or a symbol next to it', () => {
      expect(named('Prezzo 3,50 € 💰', 'it')).toBe('Prezzo 3 euro e 50 centesimi, sacco di soldi.')
      expect(named('1️⃣ 🔥🔥🔥', 'it')).toBe('1, fuoco.')
      expect(named('Punti 10 🔥 ok', 'it')).toBe('Punti 10, fuoco, ok.')
      expect(named('Fatto: ✅ bene', 'it')).toBe('Fatto: segno di spunta, bene.')
    })

    it('names a ZWJ sequence as one emoji', () => {
      expect(named('a 👨‍👩‍👧 trip', 'en')).toBe('a, family, trip.')
      expect(named('in viaggio 👨‍👩‍👧', 'it')).toBe('in viaggio, famiglia.')
      expect(named('👩‍💻 at work', 'en')).toBe('Woman technologist, at work.')
      expect(named('❤️‍🔥', 'en')).toBe('Heart on fire.')
    })

    it('names flags, those of England and Scotland too', () => {
      expect(named('Forza 🇮🇹', 'it')).toBe('Forza, bandiera Italia.')
      expect(named('Go 🇬🇧', 'en')).toBe('Go, flag United Kingdom.')
      expect(named('🏴󠁧󠁢󠁥󠁮󠁧󠁿 vs 🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'en')).toBe('Flag England, vs, flag Scotland.')
    })

    it('reads a keycap as its digit, in either mode', () => {
      expect(named('1️⃣ uno 2️⃣ due', 'it')).toBe('1 uno 2 due.')
      expect(named('Step 3️⃣ #️⃣', 'en')).toBe('Step 3.')
      expect(named('🔟 points', 'en')).toBe('10 points.')
      for (const read of [(text: string) => named(text, 'en'), en]) {
        expect(read('I give it 🔟 points')).toBe('I give it 10 points.')
        // Keycaps side by side are a list of digits, not one number.
        expect(read('1️⃣2️⃣3️⃣')).toBe('1 2 3.')
        expect(read('1️⃣🔟')).toBe('1 10.')
        expect(read('Step3️⃣go')).toBe('Step 3 go.')
        // The keycaps # and * are left out, as # and * are.
        expect(read('#️⃣ *️⃣ ok')).toBe('ok.')
      }
    })

    it('leaves the skin tone out of the name', () => {
      expect(named('Ok 👍🏽', 'it')).toBe('Ok, pollice in su.')
      expect(named('Ok 👍🏿', 'en')).toBe('Ok, thumbs up.')
      expect(named('👩🏽‍💻 al lavoro', 'it')).toBe('Tecnologa, al lavoro.')
      // A sequence CLDR names only with its tones: "handshake: light skin tone, medium skin tone".
      expect(named('Deal 🫱🏻‍🫲🏽', 'en')).toBe('Deal, handshake.')
      expect(named('Affare 🫱🏻‍🫲🏽', 'it')).toBe('Affare, stretta di mano.')
      expect(named('a 🏽 b', 'en')).toBe('a b.')
    })

    it('names a repeated emoji once, and each different one once', () => {
      expect(named('Wow 🔥🔥🔥', 'en')).toBe('Wow, fire.')
      expect(named('Wow 🔥 🔥 🔥 yes', 'it')).toBe('Wow, fuoco, yes.')
      expect(named('🔥🚀🔥', 'en')).toBe('Fire, rocket.')
      expect(named('Top 👍👍🏽👍🏿', 'it')).toBe('Top, pollice in su.')
    })

    it('drops an emoji it has no name for, never spelling it', () => {
      // U+1FC00 is not assigned yet, but reserved for pictographs: a future emoji.
      expect(named('ok \u{1FC00} done', 'en')).toBe('ok done.')
      expect(named('ok \u{1FC00}\u{1FC00} ✅', 'en')).toBe('ok, check mark.')
      // ★ and ☆ are pictographs without an emoji name.
      expect(named('★★★★☆ reviews', 'en')).toBe('reviews.')
      expect(named('Acme™ © 2025 → next', 'en')).toBe('Acme 2025, next.')
    })

    it('drops them in languages without names, rather than say English words', () => {
      expect(named('Fertig ✅ 🇩🇪', 'de')).toBe('Fertig.')
      expect(named('Listo 👍', 'es-ES')).toBe('Listo.')
    })

    it('rejects another value, naming the option and the values allowed', () => {
      expect(() => speechText('a', { emoji: 'say' as never })).toThrow(
        new RangeError('emoji must be "drop" or "name", got "say"'),
      )
      expect(() => speechText('a', { emoji: 'say' as never })).toThrow(RangeError)
      expect(() => speechText('a', { emoji: true as never })).toThrow(
        new TypeError('emoji must be "drop" or "name", got true'),
      )
      expect(() => speechText('a', { emoji: true as never })).toThrow(TypeError)
    })
  })

  describe('numbers', () => {
    it('reads dates in the order of the language, or the only possible one', () => {
      expect(it_('il 3/4/2025')).toBe('il 3 aprile 2025.')
      expect(us('on 3/4/2025')).toBe('on March 4th, 2025.')
      expect(it_('il 4/13/2025')).toBe('il 13 aprile 2025.')
      expect(us('on 13/4/2025')).toBe('on April 13th, 2025.')
      expect(it_('il 2025-04-01 e il 01.05.25')).toBe('il primo aprile 2025 e il primo maggio 2025.')
      expect(us('on 2025-04-22')).toBe('on April 22nd, 2025.')
      expect(it_('il 2025-13-01')).toBe('il 2025-13-01.')
    })

    it('does not read a day that does not exist as a date', () => {
      expect(us('on 2/30/2025, 2/29/2024, 2/29/2025, 2025-02-30')).toBe(
        'on 2 30 2025, February 29th, 2024, 2 29 2025, 2025-02-30.',
      )
      expect(it_('il 31/04/2025 o il 31.04.2025')).toBe('il 31 04 2025 o il 31.04.2025.')
    })

    it('reads a day and month without a year only after a word that makes it a date', () => {
      expect(us('due on 12/31, by 4/15, until 31/12')).toBe(
        'due on December 31st, by April 15th, until December 31st.',
      )
      expect(en('until 31/12, on 2/30')).toBe('until the 31st of December, on 2 out of 30.')
      expect(it_('entro il 31/12, dal 15/3')).toBe('entro il 31 dicembre, dal 15 marzo.')
      // A score, a rating or a bare pair stays a pair of numbers.
      expect(us('12/31 of them, rated 5/5, 24/7, scored 12/31')).toBe(
        '12 out of 31 of them, rated 5 out of 5, 24 7, scored 12 out of 31.',
      )
      expect(it_('voto 28/30, 3/4 passati, 28/30 il voto')).toBe(
        'voto 28 su 30, 3 su 4 passati, 28 su 30 il voto.',
      )
    })

    it('reads a day and month both up to 12 as a date, in the order of the language, after such a word', () => {
      expect(us('due 3/4, on 5/5, since 1/2, until 12/11')).toBe(
        'due March 4th, on May 5th, since January 2nd, until December 11th.',
      )
      expect(en('due 3/4, on 5/5, since 1/2')).toBe(
        'due the 3rd of April, on the 5th of May, since the 1st of February.',
      )
      expect(it_('il 3/4, entro il 5/6, dal 1/2, scadenza 10/11')).toBe(
        'il 3 aprile, entro il 5 giugno, dal primo febbraio, scadenza 10 novembre.',
      )
      // A day that does not exist in the language's order is not a date.
      expect(us('due 4/31')).toBe('due 4 out of 31.')
      expect(it_('il 31/4')).toBe('il 31 su 4.')
    })

    it('reads a day and month after a deadline word with a colon, or after a day of the week', () => {
      expect(us('Due: 12/31. Deadline: 3/4. Monday 3/4, Fri. 12/20, Tuesday, 1/7')).toBe(
        'Due: December 31st. Deadline: March 4th. Monday March 4th, Fri. December 20th, Tuesday, January 7th.',
      )
      expect(it_('Scadenza: 31/12. Lunedì 3/4, ven 20/12, martedi 7/1')).toBe(
        'Scadenza: 31 dicembre. Lunedì 3 aprile, ven 20 dicembre, martedi 7 gennaio.',
      )
    })

    it('reads two days and months joined by a dash as a span of dates', () => {
      expect(us('Holidays: 12/24-12/31. Closed 12/28 - 1/3, week 8/11–8/15')).toBe(
        'Holidays: December 24th to December 31st. Closed December 28th to January 3rd, week August 11th to August 15th.',
      )
      expect(en('Holidays: 24/12-31/12')).toBe('Holidays: the 24th of December to the 31st of December.')
      expect(it_('Ferie 24/12-31/12, chiuso 8/12-11/12, dal 1/8-31/8')).toBe(
        "Ferie dal 24 dicembre al 31 dicembre, chiuso dall'8 dicembre all'11 dicembre, dal primo agosto al 31 agosto.",
      )
      // Not a span: falling, a day that does not exist, two fractions of one denominator.
      expect(us('pages 12/31-12/24, 2/30-3/4, 1/4-3/4 and 3/5-4/5 of them')).toBe(
        'pages 12 out of 31-12 out of 24, 2 out of 30-3 out of 4, 1 out of 4-3 out of 4 and 3 out of 5-4 out of 5 of them.',
      )
    })

    it('reads the second day and month of a range or list as a date when the first is one', () => {
      expect(us('from 12/24 to 12/31, on 3/4 and 3/5')).toBe(
        'from December 24th to December 31st, on March 4th and March 5th.',
      )
      expect(en('from 24/12 to 31/12')).toBe('from the 24th of December to the 31st of December.')
      expect(it_('dal 24/12 al 31/12, il 3/4 e 5/4, il 3/4 o 4/4')).toBe(
        'dal 24 dicembre al 31 dicembre, il 3 aprile e 5 aprile, il 3 aprile o 4 aprile.',
      )
      // Without a date before it, the second pair is a pair of numbers.
      expect(us('rated 5/5 and 4/5')).toBe('rated 5 out of 5 and 4 out of 5.')
      expect(it_('voto 5/5 e 4/5')).toBe('voto 5 su 5 e 4 su 5.')
    })

    it('keeps a half, a third or a quarter after "by", "from", "after" or "before" a quantity', () => {
      expect(us('cut it by 1/2, grew by 3/4, from 1/2 to 3/4 cup')).toBe(
        'cut it by 1 out of 2, grew by 3 out of 4, from 1 out of 2 to three quarters cup.',
      )
      // After a word that only leads dates, it is a date.
      expect(us('on 1/2, due 3/4')).toBe('on January 2nd, due March 4th.')
      expect(it_('il 1/2, entro il 3/4')).toBe('il primo febbraio, entro il 3 aprile.')
    })

    it('reads a simple fraction before "of" or a measure', () => {
      expect(en('1/2 cup, 3/4 of the pie, 2/3 of it, 1/4 inch, step 1/2 done, 5/4 cup')).toBe(
        'one half cup, three quarters of the pie, two thirds of it, one quarter inch, step 1 out of 2 done, 5 out of 4 cup.',
      )
      expect(it_('1/2 tazza, 1/2 litro, 3/4 di latte, 1/3 del totale, passo 1/2 fatto')).toBe(
        'mezza tazza, mezzo litro, tre quarti di latte, un terzo del totale, passo 1 su 2 fatto.',
      )
    })

    it('reads a whole number and a half, third or quarter as a mixed number', () => {
      expect(en('Add 1 1/2 cups of flour, walk 2 3/4 miles, 1 1/3 hours, 10 2/3 inches')).toBe(
        'Add 1 and a half cups of flour, walk 2 and three quarters miles, 1 and a third hours, 10 and two thirds inches.',
      )
      expect(us('a 3 1/2 star hotel, 1 1/4')).toBe('a 3 and a half star hotel, 1 and a quarter.')
      expect(it_('Aggiungi 1 1/2 tazze di farina, cammina 2 3/4 km, 1 1/3 litri, 3 1/4')).toBe(
        'Aggiungi 1 e mezzo tazze di farina, cammina 2 e tre quarti km, 1 e un terzo litri, 3 e un quarto.',
      )
      // Not a proper fraction, or part of a longer figure: left to the other rules.
      expect(en('1 5/4 cup, 1 2/2, 1.5 1/2 cup, 1 1/2/3')).toBe(
        '1 5 out of 4 cup, 1 2 out of 2, 1.5 1 out of 2 cup, 1 1 out of 2 out of 3.',
      )
      expect(it_('il 1 1/2 tazza')).toBe('il 1 e mezzo tazza.')
    })

    it('reads times', () => {
      expect(it_('alle 9:00, alle 14:05')).toBe('alle 9, alle 14 e 5.')
      expect(en('at 9:00, at 14:05, at 14:30')).toBe("at 9 o'clock, at 14 oh 5, at 14 30.")
      expect(it_('aperto 9:00-13:00')).toBe('aperto dalle 9 alle 13.')
      expect(it_('dalle 9:00-13:00')).toBe('dalle 9 alle 13.')
    })

    it('reads an Italian time written with a dot after alle, dalle or ore, and only there', () => {
      expect(it_('Riceve alle 9.30 su appuntamento.')).toBe('Riceve alle 9 e 30 su appuntamento.')
      expect(it_('Aperto dalle 14.15 alle 18.00, Alle 8.05, ore 21.45.')).toBe(
        'Aperto dalle 14 e 15 alle 18, Alle 8 e 5, ore 21 e 45.',
      )
      // Elsewhere a dot in a number is a decimal point, and after those words a sum stays money.
      expect(it_('pesa 9.30 kg, costa 9.50, alle 2.50 €, alle 25.30, alle 9.300 persone, alle 1.2.3')).toBe(
        'pesa 9,30 kg, costa 9,50, alle 2 euro e 50 centesimi, alle 25,30, alle 9300 persone, alle 1.2.3.',
      )
      // English has no such rule.
      expect(en('at 9.30')).toBe('at 9.30.')
    })

    it('reads a whole hour before AM or PM without "o\'clock", and a span with its own words', () => {
      expect(en('at 8:00 PM, 8:30 pm, 9:00 and 12:00 a.m.')).toBe("at 8 PM, 8 30 pm, 9 o'clock and 12 a.m.")
      expect(it_('alle 8:00 PM')).toBe('alle 8 PM.')
      expect(speechText('between 9:00-13:00, from 9:30-10:00', { language: 'en-GB' })).toBe(
        "between 9 o'clock and 13 o'clock, from 9 30 to 10 o'clock.",
      )
      expect(en('Between 10-12 people')).toBe('Between 10 and 12 people.')
      expect(it_('tra le 9:00-13:00, tra 10-12 persone, Dalle 9:00-10:00')).toBe(
        'tra le 9 e le 13, tra 10 e 12 persone, Dalle 9 alle 10.',
      )
    })

    it('reads money with the symbol before or after, decimal comma or point', () => {
      expect(it_('€3.50 · 3,50 € · € 1.234,50 · 1.234€ · $1 · £0.99')).toBe(
        '3 euro e 50 centesimi, 3 euro e 50 centesimi, 1234 euro e 50 centesimi, 1234 euro, 1 dollaro, 99 penny.',
      )
      expect(en('$3.50, $1,234.5, 2€, £1.01')).toBe(
        '3 dollars and 50 cents, 1234 dollars and 50 cents, 2 euros, 1 pound and 1 penny.',
      )
    })

    it('reads percentages, thousands and decimals in the language', () => {
      expect(it_('il 25 %, 1.234.567 e 1,234,567 persone, 3.5 kg, 2,5 l')).toBe(
        'il 25%, 1234567 e 1234567 persone, 3,5 kg, 2,5 l.',
      )
      expect(en('25 %, 1,234,567 and 1.234.567 people, 3.5 kg')).toBe(
        '25%, 1234567 and 1234567 people, 3.5 kg.',
      )
    })

    it('reads a sum with a scale word or suffix as that many units of the currency', () => {
      expect(en('It costs $2.5 billion')).toBe('It costs 2.5 billion dollars.')
      expect(en('$1.5 million, $1.07M, $1.5B, $4.5B, €2.5k, £5m, $3bn, $1.2T')).toBe(
        '1.5 million dollars, 1.07 million dollars, 1.5 billion dollars, 4.5 billion dollars, 2500 euros, 5 million pounds, 3 billion dollars, 1.2 trillion dollars.',
      )
      expect(it_('$1.5 million, €1 miliardo, € 2,5 mln, $1M, €2.5k, $3,2 miliardi/mese')).toBe(
        '1,5 milioni di dollari, un miliardo di euro, 2,5 milioni di euro, un milione di dollari, 2500 euro, 3,2 miliardi di dollari al mese.',
      )
      // A word that only starts like a scale word is not one.
      expect(en('a $5 millionaire, €5kg')).toBe('a 5 dollars millionaire, €5kg.')
      // A country before the dollar sign is said, and is not read as letters before the sum.
      expect(en('US$5, A$1, AU$2.50, C$15, CA$3, NZ$4, HK$10, S$3 and SG$2.5 billion; BUS$5')).toBe(
        '5 US dollars, 1 Australian dollar, 2 Australian dollars and 50 cents, 15 Canadian dollars, 3 Canadian dollars, 4 New Zealand dollars, 10 Hong Kong dollars, 3 Singapore dollars and 2.5 billion Singapore dollars; BUS5 dollars.',
      )
      expect(it_('US$5, A$1, C$1,5 milioni, HK$2')).toBe(
        '5 dollari statunitensi, 1 dollaro australiano, 1,5 milioni di dollari canadesi, 2 dollari di Hong Kong.',
      )
    })

    it('reads a dot in an English sum as a decimal point, in an Italian one as thousands', () => {
      expect(us('Gas is $3.499 per gallon')).toBe('Gas is 3.499 dollars per gallon.')
      expect(en('$1.500, €1.234,50, $1,234.567, 45,00 €')).toBe(
        '1 dollar and 50 cents, 1234 euros and 50 cents, 1234.567 dollars, 45 euros.',
      )
      expect(it_('$1.500, $3.499, €3.50, €0,999, $1,234.50')).toBe(
        '1500 dollari, 3499 dollari, 3 euro e 50 centesimi, 0,999 euro, 1234 dollari e 50 centesimi.',
      )
    })

    it('reads inline math as its words, not as money', () => {
      expect(en('Einstein: $E = mc^2$, and it costs $5.')).toBe('Einstein: E mc 2, and it costs 5 dollars.')
      expect(it_('Sia $x_1 + y$, poi $5 o $10.')).toBe('Sia x 1 y, poi 5 dollari o 10 dollari.')
      // The closing `$` must be on the same line.
      expect(en('Set $x and y$ now')).toBe('Set x and y now.')
      // Without a closing `$` on its line, `$x` is read as a variable would be.
      expect(en('Set $x and\ny$ now')).toBe('Set x and y$ now.')
    })

    it('leaves versions, addresses and phone numbers as they are', () => {
      expect(it_('Node v20.19+ o v2.0, versione 2.0, ma 3.5 kg')).toBe(
        'Node v20.19+ o v2.0, versione 2.0, ma 3,5 kg.',
      )
      expect(en('v1.2.3 on 192.168.1.1, call 555-1234')).toBe('v1.2.3 on 192.168.1.1, call 555-1234.')
    })

    it('reads ordinals, degrees, spans and the number sign', () => {
      expect(it_('il 1° posto, la 3ª volta, 21°C, n° 4, 10-12 persone')).toBe(
        'il primo posto, la terza volta, 21 gradi Celsius, numero 4, 10 a 12 persone.',
      )
      expect(en('70 °F, pages 10-12, 2020–2025')).toBe('70 degrees Fahrenheit, pages 10 to 12, 2020 to 2025.')
    })

    it('keeps the scale of a temperature', () => {
      expect(en('72°F (22°C), a 45° angle')).toBe('72 degrees Fahrenheit (22 degrees Celsius), a 45° angle.')
      expect(it_('72°F (22 °C)')).toBe('72 gradi Fahrenheit (22 gradi Celsius).')
    })
  })

  describe('punctuation', () => {
    it('maps marks the engine would spell or overdo to what a reader does', () => {
      expect(it_('Sì!!! Davvero?!? Beh.... forse… a — b | c / d & e ~5')).toBe(
        'Sì! Davvero? Beh... forse... a, b, c o d e e circa 5.',
      )
      expect(en('yes/no, 5/5, 24/7, 5 €/kg')).toBe('yes or no, 5 out of 5, 24 7, 5 euros per kg.')
      expect(it_('12 sì/no, 80 km/h, €5/kg, 1200 €/mese')).toBe(
        '12 sì o no, 80 km al h, 5 euro al kg, 1200 euro al mese.',
      )
      expect(en('$1,200/month')).toBe('1200 dollars per month.')
      expect(en('a # b \\ c ^ d { e } @f')).toBe('a b c d e f.')
    })

    it('reads a shell variable by its name, without the dollar, like inline code', () => {
      expect(en(`Set $HOME and $PATH, or \${USER}; it costs $5.`)).toBe(
        'Set HOME and PATH, or USER; it costs 5 dollars.',
      )
      expect(it_(`Imposta $HOME e \${USER}, costa $5.`)).toBe('Imposta HOME e USER, costa 5 dollari.')
      expect(en(`Files go in $HOME/.config/app or \${XDG_DATA_HOME}/app.`)).toBe(
        'Files go in HOME config app or XDG DATA HOME app.',
      )
      expect(it_('Metti i file in $HOME/bin.')).toBe('Metti i file in HOME bin.')
      expect(speechText('Ve a $HOME.', { language: 'es' })).toBe('Ve a HOME.')
      // The same as in inline code.
      expect(en(`Set \`$HOME\` and \`\${USER}\`.`)).toBe(en(`Set $HOME and \${USER}.`))
      // Escaped, it is still the variable's name; money, a lone dollar or one inside a word is not.
      expect(en('\\$HOME, $5, $ 5, a $ sign, a$b')).toBe('HOME, 5 dollars, 5 dollars, a $ sign, a$b.')
    })
  })
})
