/** One problem in a config file, located for the person who has to fix it. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `routes[0].match.path`; empty for the document itself. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(i: ConfigIssue): string {
  // Line 0 means the problem is the file itself (unreadable), not a place in it.
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : `${i.file}:`;
  return `${where} ${i.path ? i.path + ': ' : ''}${i.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
