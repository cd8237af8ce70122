/**
 * Morse code as an obfuscation: jailbreaks are pasted as dots and dashes so that no word of
 * them matches. Runs of Morse letters are decoded to text that is screened like the rest.
 */

const TABLE: Readonly<Record<string, string>> = {
  '.-': 'a', '-...': 'b', '-.-.': 'c', '-..': 'd', '.': 'e', '..-.': 'f', '--.': 'g', '....': 'h', '..': 'i',
  '.---': 'j', '-.-': 'k', '.-..': 'l', '--': 'm', '-.': 'n', '---': 'o', '.--.': 'p', '--.-': 'q', '.-.': 'r',
  '...': 's', '-': 't', '..-': 'u', '...-': 'v', '.--': 'w', '-..-': 'x', '-.--': 'y', '--..': 'z',
  '-----': '0', '.----': '1', '..---': '2', '...--': '3', '....-': '4', '.....': '5', '-....': '6', '--...': '7',
  '---..': '8', '----.': '9', '.-.-.-': '.', '--..--': ',', '..--..': '?', '-.-.--': '!', '.----.': "'",
  '-..-.': '/', '---...': ':', '-.-.-.': ';', '-...-': '=', '.-.-.': '+', '-....-': '-', '.-..-.': '"',
  '.--.-.': '@', '-.--.': '(', '-.--.-': ')',
};

// At least 12 letters in a row, separated by spaces, with `/` or `|` or two spaces between words.
// Each letter is at most 7 symbols, so the pattern is linear.
const RUN = /(?:[.-]{1,7}(?: {1,3}| ?[/|] ?)){11,}[.-]{1,7}/g;
const MAX_RUNS = 8;
const MAX_CHARS = 64 * 1024;

/** The decoded text of the Morse runs in `s` (joined by newlines), or undefined when there are none. */
export function decodeMorse(s: string): string | undefined {
  if (s.indexOf('.-') === -1 && s.indexOf('-.') === -1) return undefined;
  const out: string[] = [];
  let runs = 0;
  for (const m of s.slice(0, MAX_CHARS).matchAll(RUN)) {
    if (++runs > MAX_RUNS) break;
    const words = m[0].trim().split(/ ?[/|] ?| {2,}/);
    let text = '';
    let letters = 0;
    let unknown = 0;
    for (const w of words) {
      for (const code of w.split(' ')) {
        if (code === '') continue;
        const ch = TABLE[code];
        if (ch === undefined) unknown++;
        else {
          text += ch;
          letters++;
        }
      }
      text += ' ';
    }
    // A rule of dashes or a row of dots is not Morse: most codes must be letters.
    if (letters >= 12 && unknown * 10 <= letters) out.push(text.trim());
  }
  return out.length > 0 ? out.join('\n') : undefined;
}
