/** What the secret recognizers return, shared by the prefix, base64-block and generic ones. */
export interface Hit {
  start: number;
  end: number;
  label: string;
}

export interface PrefixRecognizer {
  readonly cls: string;
  /** Longest match in realistic use, in chars; Infinity for open-ended tokens (PEM, JWT). */
  readonly maxLen: number;
  /** Literal starts; `text` at the offset given to `match` starts with one of them. */
  readonly prefixes: readonly string[];
  /** The character before the prefix may be a letter or digit (otherwise it may not). */
  readonly anyBefore?: boolean;
  /**
   * The match at `at`; or, when there is none, optionally the offset up to which this recognizer
   * already looked (the scan skips there, so a long run is never re-read from each of its offsets).
   */
  match(text: string, at: number): Hit | number | undefined;
}
