/**
 * The text as espeak-ng is given it, by both built-in engines. espeak-ng reads its text as a C
 * string, so it said nothing after a NUL character (the WebAssembly build's argument and the
 * program's standard input alike): the rest of the reply was lost without an error. A NUL is never
 * heard, so it becomes a space.
 */
export function espeakText(text: string): string {
  return text.replace(/\0/g, ' ')
}
