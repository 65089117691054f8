// Chat-model replies as a bot receives them, each with the words that must be heard and what must
// not be (beyond the symbol names and emoji names every reply is checked for). `plain` is the same
// reply as a person would have written it without markup, for the audio-length comparison.

export interface CorpusReply {
  /** As given to VoiceSystem: any case, with or without a region. */
  language: string
  markdown: string
  /** Words that must survive, in this order. */
  keep: string[]
  /** Words the engine must not say for this reply (checked on the phonemes). */
  not?: string[]
  /** The same reply written plain, spoken as given. */
  plain?: string
}

export const corpus: CorpusReply[] = [
  // Italian: emphasis, links, emoji
  {
    language: 'it',
    markdown: '**Certo!** Apri https://example.com/guida ✅',
    keep: ['Certo!', 'Apri', 'example.com'],
    not: ['guida', 'acca'],
    plain: 'Certo! Apri example.com.',
  },
  {
    language: 'it',
    markdown: 'Ciao! 😊 Sono qui per *aiutarti*. Cosa ti serve oggi?',
    keep: ['Ciao!', 'aiutarti', 'oggi?'],
    plain: 'Ciao! Sono qui per aiutarti. Cosa ti serve oggi?',
  },
  {
    language: 'it',
    markdown: 'Ottima domanda!!! 🤔 La risposta breve è: **dipende** dal contesto.',
    keep: ['Ottima domanda!', 'dipende', 'contesto'],
    plain: 'Ottima domanda! La risposta breve è: dipende dal contesto.',
  },
  {
    language: 'it',
    markdown:
      'Puoi leggere la [documentazione ufficiale](https://docs.python.org/3/library/json.html) per i dettagli.',
    keep: ['documentazione ufficiale', 'dettagli'],
    not: ['python', 'library'],
    plain: 'Puoi leggere la documentazione ufficiale per i dettagli.',
  },
  {
    language: 'it',
    markdown: 'Trovi tutto su www.comune.milano.it/servizi/anagrafe 👍',
    keep: ['comune.milano.it'],
    not: ['anagrafe', 'servizi'],
    plain: 'Trovi tutto su comune.milano.it.',
  },
  {
    language: 'it',
    markdown: '~~Prima~~ Ora la procedura è più semplice ✨',
    keep: ['Prima', 'Ora', 'semplice'],
    plain: 'Prima Ora la procedura è più semplice.',
  },
  {
    language: 'it',
    markdown: '_Nota bene_: il negozio chiude presto 🕐',
    keep: ['Nota bene', 'negozio', 'presto'],
  },
  {
    language: 'it',
    markdown: 'Scrivimi a mario.rossi@example.com oppure chiama il numero verde ☎️',
    keep: ['mario rossi', 'chiocciola', 'example.com', 'numero verde'],
  },
  {
    language: 'it',
    markdown: '![Schema del circuito](https://cdn.example.com/img/circuito.png) Ecco lo schema.',
    keep: ['Schema del circuito', 'Ecco lo schema'],
    not: ['png', 'cdn'],
  },
  {
    language: 'it',
    markdown: 'Ecco il link: <https://www.agenziaentrate.gov.it/portale/web/guest>',
    keep: ['Ecco il link', 'agenziaentrate.gov.it'],
    not: ['portale', 'guest'],
  },
  // Italian: headings, lists, quotes, rules
  {
    language: 'it',
    markdown: '## Ricetta della carbonara\n\nIngredienti:\n\n- guanciale\n- uova\n- pecorino\n- pepe nero',
    keep: ['Ricetta della carbonara', 'Ingredienti', 'guanciale', 'uova', 'pecorino', 'pepe nero'],
    plain: 'Ricetta della carbonara. Ingredienti: guanciale. uova. pecorino. pepe nero.',
  },
  {
    language: 'it',
    markdown: '### Passi\n\n1. Apri le impostazioni\n2. Tocca **Account**\n3. Scegli _Esci_',
    keep: ['Passi', '1', 'impostazioni', '2', 'Account', '3', 'Esci'],
    plain: 'Passi. 1, Apri le impostazioni. 2, Tocca Account. 3, Scegli Esci.',
  },
  {
    language: 'it',
    markdown: "> Il mattino ha l'oro in bocca.\n\nÈ un proverbio italiano molto noto.",
    keep: ["Il mattino ha l'oro in bocca", 'proverbio italiano'],
    plain: "Il mattino ha l'oro in bocca. È un proverbio italiano molto noto.",
  },
  {
    language: 'it',
    markdown: 'Prima parte.\n\n---\n\nSeconda parte.\n\n***\n\nFine.',
    keep: ['Prima parte', 'Seconda parte', 'Fine'],
    plain: 'Prima parte. Seconda parte. Fine.',
  },
  {
    language: 'it',
    markdown: '- [x] Comprare il latte\n- [ ] Pagare la bolletta\n- [ ] Chiamare la nonna',
    keep: ['Comprare il latte', 'Pagare la bolletta', 'Chiamare la nonna'],
  },
  {
    language: 'it',
    markdown: '* Primo punto\n* Secondo punto\n  * Sotto punto\n+ Terzo punto',
    keep: ['Primo punto', 'Secondo punto', 'Sotto punto', 'Terzo punto'],
  },
  {
    language: 'it',
    markdown: '# Riepilogo #\n\nTutto è pronto per la partenza. 🚀',
    keep: ['Riepilogo', 'partenza'],
    plain: 'Riepilogo. Tutto è pronto per la partenza.',
  },
  {
    language: 'it',
    markdown: 'Titolo importante\n=================\n\nTesto del paragrafo.',
    keep: ['Titolo importante', 'Testo del paragrafo'],
  },
  {
    language: 'it',
    markdown: '> **Attenzione:** non lasciare la pentola sul fuoco ⚠️\n> Potrebbe bruciare.',
    keep: ['Attenzione:', 'non lasciare la pentola', 'Potrebbe bruciare'],
  },
  {
    language: 'it',
    markdown: '1) Accendi il forno\n2) Inforna per 20 minuti\n3) Lascia raffreddare',
    keep: ['Accendi il forno', 'Inforna per 20 minuti', 'Lascia raffreddare'],
  },
  // Italian: tables
  {
    language: 'it',
    markdown: '| Città | Abitanti |\n|---|---:|\n| Roma | 2.750.000 |\n| Milano | 1.350.000 |',
    keep: ['Città', 'Abitanti', 'Roma', '2750000', 'Milano', '1350000'],
    plain: 'Città, Abitanti. Roma, 2750000. Milano, 1350000.',
  },
  {
    language: 'it',
    markdown:
      'Confronto:\n\n| Piano | Prezzo | Note |\n| :-- | :-: | --: |\n| Base | 5 € | **consigliato** |\n| Pro | 12,50 € | _annuale_ |',
    keep: [
      'Confronto',
      'Piano',
      'Prezzo',
      'Base',
      '5 euro',
      'consigliato',
      'Pro',
      '12 euro e 50 centesimi',
      'annuale',
    ],
    not: ['virgola'],
  },
  {
    language: 'it',
    markdown: 'Giorno | Orario\n--- | ---\nLunedì | 9:00 - 18:00\nSabato | chiuso',
    keep: ['Giorno', 'Orario', 'Lunedì', '9', '18', 'Sabato', 'chiuso'],
    not: ['zero zero'],
  },
  // Italian: code
  {
    language: 'it',
    markdown:
      'Ecco come fare:\n\n```python\nimport json\nprint(json.dumps(dati))\n```\n\nFammi sapere se funziona!',
    keep: ['Ecco come fare', 'Codice omesso', 'Fammi sapere se funziona!'],
    not: ['import', 'print'],
    plain: 'Ecco come fare: Codice omesso. Fammi sapere se funziona!',
  },
  {
    language: 'it',
    markdown: 'Usa il comando `git status` per vedere i file modificati.',
    keep: ['git status', 'file modificati'],
    plain: 'Usa il comando git status per vedere i file modificati.',
  },
  {
    language: 'it',
    markdown: 'Installa il pacchetto con `npm install @taurobot/voice` e poi riavvia.',
    keep: ['npm install', 'taurobot', 'voice', 'riavvia'],
  },
  {
    language: 'it',
    markdown: 'La funzione `leggi_file()` restituisce una stringa.\n\n~~~\nfunction leggi_file() {}\n~~~',
    keep: ['leggi', 'file', 'restituisce una stringa', 'Codice omesso'],
    not: ['function'],
  },
  {
    language: 'it',
    markdown: 'Modifica il file `config.json` e imposta `"debug": true`.',
    keep: ['config.json', 'debug', 'true'],
  },
  // Italian: dates, times, money, numbers
  {
    language: 'it',
    markdown: "L'appuntamento è il 3/4/2025 alle 15:30.",
    keep: ['3 aprile 2025', '15 e 30'],
    not: ['marzo'],
    plain: "L'appuntamento è il 3 aprile 2025 alle 15 e 30.",
  },
  {
    language: 'it',
    markdown: 'La scadenza è il **2025-06-30**, non dimenticarlo! 📅',
    keep: ['30 giugno 2025', 'non dimenticarlo!'],
    plain: 'La scadenza è il 30 giugno 2025, non dimenticarlo!',
  },
  {
    language: 'it',
    markdown: 'Il biglietto costa €3.50 e il ridotto € 2,00.',
    keep: ['3 euro e 50 centesimi', '2 euro'],
    not: ['punto', 'virgola', 'zero zero'],
    plain: 'Il biglietto costa 3 euro e 50 centesimi e il ridotto 2 euro.',
  },
  {
    language: 'it',
    markdown: 'Totale: **1.234,56 €** (IVA inclusa)',
    keep: ['Totale', '1234 euro e 56 centesimi', 'IVA inclusa'],
    not: ['virgola'],
  },
  {
    language: 'it',
    markdown: 'Il Dott. Rossi riceve alle 9.30 su appuntamento, dalle 14.15 alle 18.00.',
    keep: ['Dott.', '9 e 30', 'dalle 14 e 15 alle 18'],
    not: ['virgola', 'punto'],
    plain: 'Il Dott. Rossi riceve alle 9 e 30 su appuntamento, dalle 14 e 15 alle 18.',
  },
  {
    language: 'it',
    markdown: 'Il volo parte alle 9:00 e atterra alle 11:45.',
    keep: ['9', '11 e 45'],
    not: ['zero zero'],
  },
  {
    language: 'it',
    markdown: 'Lo sconto è del 25 % su tutti gli articoli 🛍️',
    keep: ['25%', 'articoli'],
  },
  {
    language: 'it',
    markdown: 'Il 1° maggio è festa, e la 2ª rata scade il 15/05/2025.',
    keep: ['primo maggio', 'seconda rata', '15 maggio 2025'],
    not: ['grado', 'gradi'],
  },
  {
    language: 'it',
    markdown: 'Domani ci saranno 25°C a Napoli ☀️',
    keep: ['25 gradi', 'Napoli'],
  },
  {
    language: 'it',
    markdown: 'Il prodotto costa $19.99 negli Stati Uniti e £15 nel Regno Unito.',
    keep: ['19 dollari e 99 centesimi', '15 sterline'],
    not: ['punto'],
  },
  {
    language: 'it',
    markdown: 'La popolazione mondiale supera 8,000,000,000 di persone.',
    keep: ['8000000000'],
    not: ['virgola'],
  },
  {
    language: 'it',
    markdown: 'Pesa circa 3.5 kg e misura 1.20 m.',
    keep: ['3,5', '1,20'],
    not: ['punto'],
  },
  {
    language: 'it',
    markdown: 'Ci vediamo il 07/01/25 alle 20:15 🍕',
    keep: ['7 gennaio 2025', '20 e 15'],
  },
  {
    language: 'it',
    markdown: 'La riunione è fissata per il 1/10/2025, dalle 10:00 alle 12:30.',
    keep: ['primo ottobre 2025', '10', '12 e 30'],
  },
  {
    language: 'it',
    markdown: "L'affitto è di 850€ al mese, spese escluse.",
    keep: ['850 euro', 'spese escluse'],
  },
  {
    language: 'it',
    markdown: 'Ho trovato ~30 risultati per la tua ricerca 🔍',
    keep: ['circa 30 risultati'],
  },
  // Italian: amounts with a scale, temperatures, math, versions, fractions, dates
  {
    language: 'it',
    markdown: 'Il fatturato è di **$1.5 million**, circa € 1,4 mln 📈',
    keep: ['1,5 milioni di dollari', '1,4 milioni di euro'],
    not: ['million', 'centesimi'],
    plain: 'Il fatturato è di 1,5 milioni di dollari, circa 1,4 milioni di euro.',
  },
  {
    language: 'it',
    markdown: 'Installa Node **v20.19+** oppure la versione 22.1 LTS.',
    keep: ['v20.19', 'versione 22.1'],
    not: ['20,19', '22,1'],
  },
  {
    language: 'it',
    markdown: 'A Roma ci sono 30°C, cioè 86°F 🌡️',
    keep: ['30 gradi Celsius', '86 gradi Fahrenheit'],
    plain: 'A Roma ci sono 30 gradi Celsius, cioè 86 gradi Fahrenheit.',
  },
  {
    language: 'it',
    markdown: 'Aggiungi 1/2 tazza di latte e 3/4 di cucchiaino di sale 🥛',
    keep: ['mezza tazza', 'tre quarti di cucchiaino'],
  },
  {
    language: 'it',
    markdown: 'La formula $a^2 + b^2 = c^2$ vale per i triangoli *rettangoli*.',
    keep: ['a 2 b 2 c 2', 'triangoli rettangoli'],
    not: ['dollar'],
  },
  {
    language: 'it',
    markdown: 'Consegna entro il 31/12, non il 31/11/2025 ❌',
    keep: ['31 dicembre', '31 11 2025'],
    not: ['novembre'],
  },
  // Italian: punctuation
  {
    language: 'it',
    markdown: 'Aspetta... sto pensando — forse hai ragione!!',
    keep: ['Aspetta', 'sto pensando', 'forse hai ragione!'],
    plain: 'Aspetta... sto pensando, forse hai ragione!',
  },
  {
    language: 'it',
    markdown: 'Puoi scegliere tè/caffè | acqua | succo.',
    keep: ['tè o caffè', 'acqua', 'succo'],
  },
  {
    language: 'it',
    markdown: 'Il servizio è attivo 24/7 e la valutazione è 5/5 ⭐',
    keep: ['24 su 7', '5 su 5'],
  },
  {
    language: 'it',
    markdown: 'Davvero?! Non ci credo… 😱',
    keep: ['Davvero?', 'Non ci credo'],
  },
  {
    language: 'it',
    markdown: 'Sale & pepe q.b. → poi servire.',
    keep: ['Sale e pepe', 'poi servire'],
  },
  {
    language: 'it',
    markdown: 'Usa la variabile \\*importante\\* solo se serve. #consiglio',
    keep: ['importante', 'solo se serve', 'consiglio'],
  },
  {
    language: 'it',
    markdown: 'Il file si chiama nome_del_file.txt, aprilo.',
    keep: ['nome del file', 'aprilo'],
  },
  {
    language: 'it',
    markdown: 'Premi <kbd>Ctrl</kbd>+<kbd>C</kbd> per copiare.<br>Poi incolla.',
    keep: ['Ctrl', 'copiare', 'Poi incolla'],
    not: ['kbd'],
  },
  {
    language: 'it',
    markdown: 'Perfetto! 🎉🎉🎉 Ci sentiamo presto 👋🏽',
    keep: ['Perfetto!', 'Ci sentiamo presto'],
    plain: 'Perfetto! Ci sentiamo presto.',
  },
  {
    language: 'it',
    markdown: 'Ecco tre consigli:\n1. **Dormi** almeno 7 ore\n2. Bevi *acqua*\n3. Muoviti ogni giorno 🏃',
    keep: ['Ecco tre consigli', 'Dormi', '7 ore', 'Bevi', 'acqua', 'Muoviti ogni giorno'],
  },
  {
    language: 'it',
    markdown: 'Il documento è su [Google Drive](https://drive.google.com/file/d/1AbC/view?usp=sharing) 📄',
    keep: ['Google Drive'],
    not: ['sharing'],
  },
  {
    language: 'it',
    markdown: 'Per info scrivi a <info@negozio.it> dal lunedì al venerdì, 9:30-13:00.',
    keep: ['info', 'chiocciola', 'negozio.it', 'lunedì', '9 e 30', '13'],
  },
  {
    language: 'it-IT',
    markdown: 'Il pagamento di € 1.500 è stato ricevuto il 28/02/2025 ✅',
    keep: ['1500 euro', '28 febbraio 2025'],
  },
  // English: emphasis, links, emoji
  {
    language: 'en',
    markdown: '**Sure!** Open https://example.com/guide ✅',
    keep: ['Sure!', 'Open', 'example.com'],
    not: ['guide'],
    plain: 'Sure! Open example.com.',
  },
  {
    language: 'en',
    markdown: 'Great question! 🤔 The short answer is: **it depends** on your setup.',
    keep: ['Great question!', 'it depends', 'setup'],
    plain: 'Great question! The short answer is: it depends on your setup.',
  },
  {
    language: 'en',
    markdown: 'You can read the [official docs](https://nodejs.org/api/fs.html#fspromises) for more.',
    keep: ['official docs', 'for more'],
    not: ['api'],
    plain: 'You can read the official docs for more.',
  },
  {
    language: 'en',
    markdown: 'Everything is on www.example.org/help/faq 👍',
    keep: ['example.org'],
    not: ['faq'],
    plain: 'Everything is on example.org.',
  },
  {
    language: 'en',
    markdown: 'Hi there! 👋 I am *happy* to help. What do you need today? 😊',
    keep: ['Hi there!', 'happy', 'today?'],
    plain: 'Hi there! I am happy to help. What do you need today?',
  },
  {
    language: 'en',
    markdown: 'Email me at jane.doe@example.com or call the support line 📞',
    keep: ['jane doe', 'at', 'example.com', 'support line'],
  },
  {
    language: 'en',
    markdown: '![A diagram of the pipeline](https://cdn.example.com/img/pipeline.svg) Here it is.',
    keep: ['A diagram of the pipeline', 'Here it is'],
    not: ['svg'],
  },
  {
    language: 'en',
    markdown: 'Link: <https://github.com/nodejs/node/issues/12345>',
    keep: ['Link', 'github.com'],
    not: ['issues'],
  },
  {
    language: 'en',
    markdown: '__Important__: back up your files first ⚠️',
    keep: ['Important', 'back up your files first'],
  },
  {
    language: 'en',
    markdown: 'That ~~old~~ new approach works much better 🚀',
    keep: ['old', 'new approach', 'much better'],
  },
  // English: headings, lists, quotes, tables
  {
    language: 'en',
    markdown: '## Shopping list\n\n- apples\n- bread\n- milk\n- coffee',
    keep: ['Shopping list', 'apples', 'bread', 'milk', 'coffee'],
    plain: 'Shopping list. apples. bread. milk. coffee.',
  },
  {
    language: 'en',
    markdown: '### Steps\n\n1. Open **Settings**\n2. Tap *Privacy*\n3. Turn off tracking',
    keep: ['Steps', '1', 'Settings', '2', 'Privacy', '3', 'Turn off tracking'],
    plain: 'Steps. 1, Open Settings. 2, Tap Privacy. 3, Turn off tracking.',
  },
  {
    language: 'en',
    markdown: '> The best time to plant a tree was twenty years ago.\n\nThe second best time is now.',
    keep: ['The best time to plant a tree', 'The second best time is now'],
    plain: 'The best time to plant a tree was twenty years ago. The second best time is now.',
  },
  {
    language: 'en',
    markdown: 'Part one.\n\n---\n\nPart two.\n\n___\n\nThe end.',
    keep: ['Part one', 'Part two', 'The end'],
  },
  {
    language: 'en',
    markdown: '- [x] Book flights\n- [ ] Pack bags\n- [ ] Water the plants',
    keep: ['Book flights', 'Pack bags', 'Water the plants'],
  },
  {
    language: 'en',
    markdown: '# Summary\n\nAll set for launch. 🚀🎉',
    keep: ['Summary', 'All set for launch'],
    plain: 'Summary. All set for launch.',
  },
  {
    language: 'en',
    markdown: '| Plan | Price | Users |\n|------|------:|------:|\n| Free | $0 | 1 |\n| Team | $12.50 | 10 |',
    keep: ['Plan', 'Price', 'Users', 'Free', '0 dollars', 'Team', '12 dollars and 50 cents', '10'],
    not: ['point'],
  },
  {
    language: 'en',
    markdown: 'Results:\n\n| Runner | Time |\n| --- | --- |\n| Anna | 3:05 |\n| Ben | 3:12 |',
    keep: ['Results', 'Runner', 'Time', 'Anna', 'Ben'],
  },
  {
    language: 'en',
    markdown: '> **Note:** this only works on Linux.\n> macOS support is planned.',
    keep: ['Note:', 'only works on Linux', 'macOS support is planned'],
  },
  {
    language: 'en',
    markdown: 'Main title\n----------\n\nSome text below it.',
    keep: ['Main title', 'Some text below it'],
  },
  // English: code
  {
    language: 'en',
    markdown:
      'Here is how:\n\n```js\nconst x = await fetch(url)\nconsole.log(x)\n```\n\nLet me know if it works!',
    keep: ['Here is how', 'Code omitted', 'Let me know if it works!'],
    not: ['const', 'console', 'await'],
    plain: 'Here is how: Code omitted. Let me know if it works!',
  },
  {
    language: 'en',
    markdown: 'Run `git log --oneline` to see the history.',
    keep: ['git log', 'oneline', 'history'],
    plain: 'Run git log oneline to see the history.',
  },
  {
    language: 'en',
    markdown: 'Call `read_file()` and check the `result.ok` flag.',
    keep: ['read', 'file', 'result.ok', 'flag'],
  },
  {
    language: 'en',
    markdown: 'Set `DEBUG=1` in your `.env` file.\n\n~~~bash\nexport DEBUG=1\n~~~',
    keep: ['DEBUG', '1', 'env', 'Code omitted'],
    not: ['export'],
  },
  {
    language: 'en',
    markdown: 'Use the `--force` flag only if you know what you are doing.',
    keep: ['force', 'flag', 'what you are doing'],
  },
  // English: dates, times, money, numbers
  {
    language: 'en-us',
    markdown: 'Your appointment is on 3/4/2025 at 3:30 pm.',
    keep: ['March 4th, 2025', '3 30 pm'],
    not: ['april'],
    plain: 'Your appointment is on March 4th, 2025 at 3 30 pm.',
  },
  {
    language: 'en',
    markdown: 'Your appointment is on 3/4/2025 at 15:30.',
    keep: ['3rd of April 2025', '15 30'],
    not: ['march'],
  },
  {
    language: 'en',
    markdown: 'The deadline is **2025-06-30**, do not forget! 📅',
    keep: ['30th of June 2025', 'do not forget!'],
    plain: 'The deadline is the 30th of June 2025, do not forget!',
  },
  {
    language: 'en-us',
    markdown: 'A ticket costs $3.50 and a coffee $2.',
    keep: ['3 dollars and 50 cents', '2 dollars'],
    not: ['point', 'zero'],
    plain: 'A ticket costs 3 dollars and 50 cents and a coffee 2 dollars.',
  },
  {
    language: 'en',
    markdown: 'The total is **£1,234.56** including VAT.',
    keep: ['1234 pounds and 56 pence', 'including VAT'],
    not: ['point'],
  },
  {
    language: 'en',
    markdown: 'In Europe it is sold for €49.99 or 45,00 €.',
    keep: ['49 euros and 99 cents', '45 euros'],
    not: ['point'],
  },
  {
    language: 'en',
    markdown: 'The train leaves at 9:00 and arrives at 11:05.',
    keep: ["9 o'clock", '11 oh 5'],
    not: ['zero zero'],
  },
  {
    language: 'en',
    markdown: 'Prices drop by 15 % this weekend 🛒',
    keep: ['15%', 'this weekend'],
  },
  {
    language: 'en',
    markdown: 'The city has 1,350,000 inhabitants and 2.5 million visitors.',
    keep: ['1350000', '2.5 million'],
  },
  {
    language: 'en-US',
    markdown: 'Meet me on 12/25/2024 at 18:45 🎄',
    keep: ['December 25th, 2024', '18 45'],
  },
  {
    language: 'en',
    markdown: 'Tomorrow will be 68°F and clear ☀️',
    keep: ['68 degrees', 'clear'],
  },
  {
    language: 'en',
    markdown: 'I found ~40 results for your search 🔍',
    keep: ['about 40 results'],
  },
  {
    language: 'en',
    markdown: 'Rent is $1,200/month, utilities not included.',
    keep: ['1200 dollars', 'month', 'utilities not included'],
  },
  {
    language: 'en',
    markdown: 'The meeting moved to 2025-01-01 at 10:00.',
    keep: ['1st of January 2025', "10 o'clock"],
  },
  {
    language: 'en-GB',
    markdown: 'Payment of £250 received on 14/02/2025 ✅',
    keep: ['250 pounds', '14th of February 2025'],
  },
  // English: amounts with a scale, dots in sums, temperatures, math, dates, fractions, times
  {
    language: 'en-US',
    markdown: 'Gas is **$3.499** per gallon, up from $3.2 last week ⛽',
    keep: ['3.499 dollars', 'per gallon', '3 dollars and 20 cents'],
    not: ['3499'],
    plain: 'Gas is 3.499 dollars per gallon, up from 3 dollars and 20 cents last week.',
  },
  {
    language: 'en',
    markdown: 'The deal is worth *$2.5 billion* 💰, about €2.3B; the seed round was $1.07M.',
    keep: ['2.5 billion dollars', '2.3 billion euros', '1.07 million dollars'],
    not: ['cents'],
    plain:
      'The deal is worth 2.5 billion dollars, about 2.3 billion euros; the seed round was 1.07 million dollars.',
  },
  {
    language: 'en',
    markdown: 'It was 72°F (22°C) at noon ☀️',
    keep: ['72 degrees Fahrenheit', '22 degrees Celsius'],
    plain: 'It was 72 degrees Fahrenheit (22 degrees Celsius) at noon.',
  },
  {
    language: 'en',
    markdown: 'Remember $E = mc^2$ from **physics** class 🧪',
    keep: ['E', 'mc 2', 'physics class'],
    not: ['dollar'],
  },
  {
    language: 'en-US',
    markdown: 'The form says 2/30/2025? It must mean 2/28/2025, or due by 3/15 📅',
    keep: ['2 30 2025', 'February 28th, 2025', 'by March 15th'],
    not: ['30th'],
  },
  {
    language: 'en',
    markdown: 'Add 1/2 cup of milk and 3/4 teaspoon of salt 🥛',
    keep: ['one half cup', 'three quarters teaspoon'],
    not: ['out of'],
  },
  {
    language: 'en-GB',
    markdown: 'We open at 8:00 AM, close at 8:00 PM, and on Saturdays between 9:00-13:00 👍',
    keep: ['8 AM', '8 PM', "between 9 o'clock and 13 o'clock"],
    not: ["8 o'clock"],
  },
  // English: punctuation
  {
    language: 'en',
    markdown: 'Wait... let me think — maybe you are right!!',
    keep: ['Wait', 'let me think', 'maybe you are right!'],
    plain: 'Wait... let me think, maybe you are right!',
  },
  {
    language: 'en',
    markdown: 'You can pick tea/coffee | water | juice.',
    keep: ['tea or coffee', 'water', 'juice'],
  },
  {
    language: 'en',
    markdown: 'Support is available 24/7 and rated 5/5 ⭐',
    keep: ['24 7', '5 out of 5'],
  },
  {
    language: 'en',
    markdown: 'Really?! I cannot believe it… 😱',
    keep: ['Really?', 'I cannot believe it'],
  },
  {
    language: 'en',
    markdown: 'Salt & pepper to taste → then serve.',
    keep: ['Salt and pepper', 'then serve'],
  },
  {
    language: 'en',
    markdown: 'Mark it as \\*done\\* when finished. #tip',
    keep: ['done', 'when finished', 'tip'],
  },
  {
    language: 'en',
    markdown: 'The file is called my_notes_2025.txt, open it.',
    keep: ['my notes 2025', 'open it'],
  },
  {
    language: 'en',
    markdown: 'Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to copy.<br/>Then paste it.',
    keep: ['Ctrl', 'to copy', 'Then paste it'],
    not: ['kbd'],
  },
  {
    language: 'en',
    markdown: 'Perfect! 🎉🎉🎉 Talk soon 👋🏽',
    keep: ['Perfect!', 'Talk soon'],
    plain: 'Perfect! Talk soon.',
  },
  {
    language: 'en',
    markdown: 'Three tips:\n1. **Sleep** at least 7 hours\n2. Drink *water*\n3. Move every day 🏃',
    keep: ['Three tips', 'Sleep', '7 hours', 'Drink', 'water', 'Move every day'],
  },
  {
    language: 'en',
    markdown: 'The file is on [Dropbox](https://www.dropbox.com/s/abc123/report.pdf?dl=0) 📄',
    keep: ['Dropbox'],
    not: ['report', 'pdf'],
  },
  {
    language: 'en',
    markdown: 'Questions? Write to <help@shop.example> Monday to Friday, 9:30-17:00.',
    keep: ['help', 'at', 'shop.example', 'Monday to Friday', '9 30', '17'],
  },
  {
    language: 'en',
    markdown: 'Use version 1.2.3 or later &amp; restart the app.',
    keep: ['1.2.3', 'and restart the app'],
  },
  {
    language: 'en',
    markdown: '**Pros:**\n- fast\n- cheap\n\n**Cons:**\n- noisy',
    keep: ['Pros:', 'fast', 'cheap', 'Cons:', 'noisy'],
  },
  {
    language: 'en',
    markdown: 'Step 1️⃣ is done, step 2️⃣ is next 👉 keep going!',
    keep: ['Step 1', 'is done', 'step 2', 'is next', 'keep going!'],
  },
  {
    language: 'en',
    markdown: 'Flags: 🇮🇹 Italy and 🇬🇧 the UK. Family: 👨‍👩‍👧 all here.',
    keep: ['Italy', 'the UK', 'Family', 'all here'],
  },
  {
    language: 'en',
    markdown: 'See section [Setup][setup] below.\n\n[setup]: https://example.com/setup',
    keep: ['See section', 'Setup', 'below'],
  },
  {
    language: 'en',
    markdown: 'Your order #4521 ships on 2025-03-15 via https://track.example.com/4521 📦',
    keep: ['order', '4521', '15th of March 2025', 'track.example.com'],
  },
  {
    language: 'en-us',
    markdown: 'It is 25% off until 11/30/2025 — only $29.99! 🔥',
    keep: ['25%', 'November 30th, 2025', '29 dollars and 99 cents!'],
  },
  // Days without a year, mixed numbers, shell variables
  {
    language: 'en-us',
    markdown: 'Rent is **due: 12/31**. For the cake, add 1 1/2 cups of flour 🎂',
    keep: ['due: December 31st', 'add 1 and a half cups of flour'],
    not: ['out of'],
  },
  {
    language: 'en',
    markdown: 'The sale runs from 12/24 to 12/31, or until Monday 3/4. Walk 2 3/4 miles to get there.',
    keep: [
      'from the 24th of December to the 31st of December',
      'Monday the 3rd of April',
      '2 and three quarters miles',
    ],
    not: ['out of'],
  },
  {
    language: 'en',
    markdown: `Add $HOME/bin to your $PATH, then run \`echo \${USER}\` to check.`,
    keep: ['Add HOME bin to your PATH', 'echo USER', 'check'],
    not: ['dollar'],
  },
  {
    language: 'it',
    markdown: '**Scadenza:** 31/12. Dal 24/12 al 31/12 il negozio è chiuso 🎄',
    keep: ['Scadenza: 31 dicembre', 'Dal 24 dicembre al 31 dicembre'],
    not: ['barra'],
  },
  {
    language: 'it',
    markdown: `Aggiungi 1 1/2 tazze di farina e 2 3/4 di latte, poi imposta $HOME e \${USER}.`,
    keep: ['1 e mezzo tazze di farina', '2 e tre quarti di latte', 'imposta HOME e USER'],
    not: ['dollari', 'barra'],
  },
  // Spans of dates, dollars of a named country
  {
    language: 'en-us',
    markdown: 'Our **holiday hours** run 12/24-12/31. Shipping to Canada is C$15, to Texas **US$12**.',
    keep: ['run December 24th to December 31st', 'is 15 Canadian dollars', '12 US dollars'],
    not: ['out of', 'C15', 'US12'],
  },
  {
    language: 'it',
    markdown: 'Chiusi per ferie 8/8-22/8 ☀️. Il volo costa US$420.',
    keep: ["per ferie dall'8 agosto al 22 agosto", 'costa 420 dollari statunitensi'],
    not: ['su', 'US420'],
  },
]
