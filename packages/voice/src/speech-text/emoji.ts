// espeak-ng names every pictograph it meets ("segno di spunta", "heavy check mark"), which no
// person reading a reply aloud would do. Joiners, skin tones, variation selectors and the keycap
// mark go with them, so "1️⃣" keeps only its digit.
const PICTOGRAPHS =
  /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200D|[\uFE0E\uFE0F\u20E3\u{E0020}-\u{E007F}]/gu

// Symbols outside the emoji set that espeak-ng also names: arrows, box drawing, geometric shapes,
// dingbats and stars. Arrows stand between two things, so they become a pause.
const ARROWS = /\s*(?:[\u2190-\u21FF\u27F0-\u27FF\u2900-\u297F]|->|=>|<-)\s*/g
const SHAPES = /[\u2500-\u27BF\u2B00-\u2BFF]/g

/** Removes emoji and pictographic symbols from `text`. */
export function dropPictographs(text: string): string {
  return text.replace(PICTOGRAPHS, '').replace(ARROWS, ', ').replace(SHAPES, ' ')
}
