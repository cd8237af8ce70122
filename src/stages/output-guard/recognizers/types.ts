/** One match: UTF-16 offsets into the text given to `find()`, the config class and the marker label. */
export interface Finding {
  start: number;
  end: number;
  /** Config class, such as `secrets.aws` or `pii.email`. */
  cls: string;
  /** Marker name, such as `aws_access_key`: the redactor writes `[REDACTED:<label>]`. */
  label: string;
}

/** A finding while scanning: `rank` orders recognizers on ties (lower is more specific). */
export interface RawFinding extends Finding {
  rank: number;
}

/** Where findings of one scan go. */
export type Sink = (start: number, end: number, cls: string, label: string, rank: number) => void;
