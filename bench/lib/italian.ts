// Italian sentences of the length a bot replies with: 100 distinct ones, built from a fixed list.

const BASE = [
  'Ciao! Come posso aiutarti oggi?',
  'Domani a Milano è previsto sole al mattino e qualche nuvola nel pomeriggio.',
  'Ti ricorderò di chiamare la mamma alle sei in punto.',
  'La stazione più vicina è a dieci minuti a piedi, sempre dritto.',
  'Il ristorante apre alle sette e mezza e chiude a mezzanotte.',
  'Ecco la ricetta: farina, uova, un pizzico di sale e tanta pazienza.',
  'Il treno per Bologna parte dal binario quattro alle nove e un quarto.',
  'Non preoccuparti, succede a tutti di dimenticare una password.',
  'La riunione è stata spostata a giovedì pomeriggio.',
  'Buona notte e sogni d’oro!',
  'Oggi la temperatura massima sarà di ventitré gradi.',
  'Ho aggiunto il latte e il pane alla lista della spesa.',
  'Il museo è chiuso il lunedì, ma domenica l’ingresso è gratuito.',
  'Perché non provi a riavviare il telefono e a riprovare?',
  'Complimenti, hai completato tutti gli esercizi della settimana!',
  'La farmacia di turno è in via Garibaldi, al numero dodici.',
  'Il volo è in orario e l’imbarco inizia tra quaranta minuti.',
  'Ricorda di portare l’ombrello: nel pomeriggio potrebbe piovere.',
  'Ecco tre idee per la cena: risotto, minestrone oppure una frittata.',
  'Grazie a te, è stato un piacere parlare insieme.',
]

const TAILS = ['', ' Fammi sapere se ti serve altro.', ' A presto!', ' Buona giornata.', ' Ci sentiamo dopo.']

/** `count` distinct Italian sentences, the same on every run. */
export function italianSentences(count = 100): string[] {
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    out.push(`${BASE[i % BASE.length]}${TAILS[Math.floor(i / BASE.length) % TAILS.length]}`)
  }
  return out
}
