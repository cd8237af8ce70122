import type { ScreenedText, TokenIdText } from './message-walk.js';

/**
 * Prompts given as token ids (completions `prompt`, embeddings `input`) are decoded and screened
 * like text. cl100k_base is the encoding of every OpenAI model served on /v1/completions and
 * /v1/embeddings (gpt-3.5-turbo-instruct, davinci-002, babbage-002, text-embedding-3-*, ada-002).
 */

interface Decoder {
  decodeGenerator(ids: Iterable<number>): Generator<string, void, void>;
  readonly vocabularySize: number;
}

/** OpenAI's own cap on the tokens of one embeddings request; no completions model reads more. */
export const MAX_TOKEN_IDS = 300_000;

/** The encodings token ids can be decoded with (`input.tokenIds`). */
export type TokenEncoding = 'cl100k_base' | 'o200k_base';

const decoders = new Map<TokenEncoding, Promise<Decoder>>();

const importEncoding = (encoding: TokenEncoding) =>
  encoding === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base');

/**
 * The decoder, imported once and lazily (its tables take ~250 ms to load), so gateways without
 * such routes never pay for it. A local module import: it ends, with the module or an error.
 */
export function loadTokenDecoder(encoding: TokenEncoding = 'cl100k_base'): Promise<Decoder> {
  let decoder = decoders.get(encoding);
  if (!decoder) {
    decoder = importEncoding(encoding).then(
      (m): Decoder => ({ decodeGenerator: m.decodeGenerator, vocabularySize: m.vocabularySize }),
      (err: unknown) => {
        decoders.delete(encoding); // a failed import may be retried rather than memoised forever
        throw err;
      },
    );
    decoders.set(encoding, decoder);
  }
  return decoder;
}

export type DecodeFailure = { ok: false; reason: 'too_many_token_ids' | 'unknown_token_id' | 'normalized_size'; detail: string };
export type DecodeResult = { ok: true; texts: ScreenedText[] } | DecodeFailure;

/**
 * The characters a token id may stand for in the request's budget: twice the bytes it takes in
 * the body (its digits and a comma). English averages 4 characters a token for 5 to 6 bytes an
 * id; runs of spaces or punctuation in code are longer, a 64-character token costs 5 bytes.
 */
export const idBudget = (id: number) => 2 * (String(id).length + 1);

/**
 * Decodes each token-id prompt into a text to screen. `budgetChars` bounds the decoded text
 * (a token may stand for dozens of characters): decoding stops as soon as it is passed.
 */
export async function decodeTokenIds(items: readonly TokenIdText[], budgetChars: number, encoding: TokenEncoding = 'cl100k_base'): Promise<DecodeResult> {
  let count = 0;
  for (const it of items) count += it.ids.length;
  if (count > MAX_TOKEN_IDS) return { ok: false, reason: 'too_many_token_ids', detail: `At most ${MAX_TOKEN_IDS} token ids are accepted in one request.` };
  const dec = await loadTokenDecoder(encoding);
  const texts: ScreenedText[] = [];
  let chars = 0;
  for (const it of items) {
    let bytes = 0;
    for (const id of it.ids) {
      if (!Number.isInteger(id) || id < 0 || id >= dec.vocabularySize) return { ok: false, reason: 'unknown_token_id', detail: `${it.at}: a token id is not in the ${encoding} vocabulary, so the prompt cannot be screened.` };
      bytes += idBudget(id);
    }
    let text = '';
    try {
      for (const piece of dec.decodeGenerator(it.ids)) {
        text += piece;
        chars += piece.length;
        if (chars > budgetChars) return { ok: false, reason: 'normalized_size', detail: 'The decoded prompt is larger than the request allows.' };
      }
    } catch {
      // ids inside the vocabulary size that the table does not hold (gaps)
      return { ok: false, reason: 'unknown_token_id', detail: `${it.at}: a token id is not in the ${encoding} vocabulary, so the prompt cannot be screened.` };
    }
    texts.push({ at: it.at, text, budgetBytes: bytes });
  }
  return { ok: true, texts };
}
