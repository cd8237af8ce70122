/**
 * The text a model reads from messages and content blocks, of every part type, at any depth.
 * Known keys that are not text for the model (ids, part types, cache hints, media types) and
 * payloads that are not text (image pixels, audio) are passed over; every other string is
 * screened, including fields this walk does not know (a vendor adds part types every month).
 * Content whose text the gateway cannot read (a PDF in base64, a file or URL reference) is
 * reported as unscreenable, for the stage to refuse when the injection screen is on.
 */

export interface ScreenedText {
  /** e.g. `messages[2].content[0].text`, `system`, `/text` */
  readonly at: string;
  /** The message role when the text belongs to a message. */
  readonly role?: string | undefined;
  readonly text: string;
  /** A tool or output definition rather than prompt text: screened, not counted by maxPromptChars. */
  readonly definition?: true;
  /** Characters this text may normalize to when not its UTF-8 length (decoded token ids, base64 text). */
  readonly budgetBytes?: number;
}

/** Model input whose text the gateway cannot read. */
export interface Unscreenable {
  readonly at: string;
  /** What it is, for the event: `base64 document`, `file reference`, `document url`… */
  readonly what: string;
}

/** A prompt given as token ids, decoded by the stage (the tokenizer loads lazily). */
export interface TokenIdText {
  readonly at: string;
  readonly ids: readonly number[];
}

export interface Extraction {
  readonly texts: ScreenedText[];
  readonly unscreenable: Unscreenable[];
  readonly tokenIds: TokenIdText[];
}

export const newExtraction = (): Extraction => ({ texts: [], unscreenable: [], tokenIds: [] });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys whose values are identifiers or metadata, never text the model reads as prompt. */
const NOT_TEXT = new Set(['type', 'id', 'tool_use_id', 'tool_call_id', 'signature', 'cache_control', 'media_type', 'detail', 'format']);
/** Message keys that are not text: the role (an enum the schema checked) and the call id. */
const MESSAGE_NOT_TEXT = new Set(['role', 'tool_call_id']);

/**
 * A key as a path segment for events: client-chosen key names are data, so only plain
 * identifiers are written out; anything else is `[?]`.
 */
export const keyPath = (k: string) => (/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(k) ? `.${k}` : '[?]');

interface Item {
  readonly v: unknown;
  readonly at: string;
}

/**
 * Walks `root` and every value under it. Iterative: nesting is bounded by the body's depth
 * limit, never by this walk, so nothing deep is skipped and the stack cannot overflow.
 */
export function walkContent(root: unknown, at: string, role: string | undefined, out: Extraction, skipKeys: ReadonlySet<string> = NOT_TEXT): void {
  const stack: Item[] = [{ v: root, at }];
  let first = true;
  while (stack.length > 0) {
    const { v, at: here } = stack.pop() as Item;
    const skip = first ? skipKeys : NOT_TEXT;
    first = false;
    if (typeof v === 'string') {
      out.texts.push({ at: here, role, text: v });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: `${here}[${i}]` });
      continue;
    }
    if (!isRecord(v)) continue;
    const keys = blockKeys(v, here, role, out);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i] as string;
      if (!skip.has(k)) stack.push({ v: v[k], at: `${here}${keyPath(k)}` });
    }
  }
}

/**
 * The keys of a block left for the generic walk, after the part types with a known non-text
 * payload have been handled here.
 */
function blockKeys(b: Record<string, unknown>, at: string, role: string | undefined, out: Extraction): string[] {
  const keys = Object.keys(b);
  const without = (...names: string[]) => keys.filter((k) => !names.includes(k));
  switch (b.type) {
    // Pixels and sound: not text (documented as not screened). Their captions are other parts.
    case 'image':
      return without('source');
    case 'image_url':
    case 'input_image':
      return without('image_url');
    case 'input_audio':
      return without('input_audio');
    case 'redacted_thinking':
      return without('data'); // encrypted by the provider, not readable by anyone
    case 'tool_use':
    case 'server_tool_use':
      // Arguments the model wrote earlier, replayed by the client: one text with their keys.
      if (b.input !== undefined && typeof b.input === 'object' && b.input !== null) out.texts.push({ at: `${at}.input`, role, text: JSON.stringify(b.input) });
      return without('input');
    case 'file':
    case 'input_file': {
      const f = isRecord(b.file) ? b.file : b;
      if (f.file_data !== undefined) out.unscreenable.push({ at: `${at}.file_data`, what: 'file data' });
      if (f.file_id !== undefined) out.unscreenable.push({ at: `${at}.file_id`, what: 'file reference' });
      if (f.file_url !== undefined) out.unscreenable.push({ at: `${at}.file_url`, what: 'file url' });
      if (typeof f.filename === 'string') out.texts.push({ at: `${at}.filename`, role, text: f.filename });
      return f === b ? without('file_data', 'file_id', 'file_url', 'filename') : without('file');
    }
    case 'document':
      documentSource(b.source, `${at}.source`, role, out);
      return without('source');
    default:
      return keys;
  }
}

/** Anthropic document sources: text and nested content are screened; the rest cannot be read. */
function documentSource(source: unknown, at: string, role: string | undefined, out: Extraction): void {
  if (!isRecord(source)) {
    if (source !== undefined) walkContent(source, at, role, out);
    return;
  }
  if (source.type === 'text') {
    if (typeof source.data === 'string') out.texts.push({ at: `${at}.data`, role, text: source.data });
    return;
  }
  if (source.type === 'content') {
    walkContent(source.content, `${at}.content`, role, out);
    return;
  }
  if (source.type === 'base64' && typeof source.media_type === 'string' && /^text\//i.test(source.media_type) && typeof source.data === 'string') {
    // Plain text sent as base64 is still text: decoded (the buffer decoder is linear and bounded by the body).
    out.texts.push({ at: `${at}.data`, role, text: Buffer.from(source.data, 'base64').toString('utf8'), budgetBytes: source.data.length });
    return;
  }
  // Fixed words only: the source type is client data and the detail never echoes it.
  const what = source.type === 'base64' ? 'base64 document' : source.type === 'url' ? 'document url' : source.type === 'file' ? 'document file' : 'document source';
  out.unscreenable.push({ at, what });
}

/** Every message of every role: each string of it, whatever its key, except the role and call id. */
export function messageTexts(messages: unknown, out: Extraction): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(m)) {
      walkContent(m, at, undefined, out);
      return;
    }
    const role = typeof m.role === 'string' ? m.role : undefined;
    walkContent(m, at, role, out, MESSAGE_NOT_TEXT);
  });
}
