import { readFile, stat } from 'node:fs/promises';
import { request } from 'undici';

/**
 * Reading one spec document, within limits: an http(s) URL (same origin only, redirects
 * checked, bytes counted while they stream) or a regular file. Every failure is a SpecLoadError
 * naming the source, never a stack.
 */

export class SpecLoadError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'SpecLoadError';
  }
}

/** A source fit for logs and events: no credentials, query or fragment of a URL. */
export function displaySource(source: string): string {
  if (!/^https?:\/\//i.test(source)) return source;
  try {
    const u = new URL(source);
    const hidden = u.username !== '' || u.password !== '' || u.search !== '';
    return `${u.protocol}//${u.host}${u.pathname}${hidden ? ' (credentials/query hidden)' : ''}`;
  } catch {
    return '<invalid URL>';
  }
}

export interface Budget {
  bytes: number;
  documents: number;
}

export interface Limits {
  timeoutMs: number;
  maxBytes: number;
  maxDocuments: number;
  maxRedirects: number;
  signal: AbortSignal | undefined;
}

export async function readUrl(url: URL, origin: string, budget: Budget, limits: Limits, label: string): Promise<string> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Awaited<ReturnType<typeof request>>;
    const signal = limits.signal ? AbortSignal.any([limits.signal, AbortSignal.timeout(limits.timeoutMs)]) : AbortSignal.timeout(limits.timeoutMs);
    try {
      res = await request(current, {
        method: 'GET',
        headers: { accept: 'application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.5', 'user-agent': 'bulwark-discover' },
        headersTimeout: limits.timeoutMs,
        bodyTimeout: limits.timeoutMs,
        signal,
      });
    } catch (err) {
      throw new SpecLoadError(label, `cannot fetch ${displaySource(current.href)}: ${errorText(err)}`);
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
      await res.body.dump().catch(() => undefined);
      const loc = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
      let next: URL;
      try {
        next = new URL(loc ?? '', current);
      } catch {
        throw new SpecLoadError(label, `bad redirect from ${displaySource(current.href)}`);
      }
      if (next.origin !== origin) throw new SpecLoadError(label, `refused redirect to another origin (${next.origin})`);
      if (hop >= limits.maxRedirects) throw new SpecLoadError(label, 'too many redirects');
      current = next;
      continue;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => undefined);
      throw new SpecLoadError(label, `${displaySource(current.href)} answered HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > budget.bytes) {
      res.body.destroy();
      throw new SpecLoadError(label, `spec larger than ${limits.maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > budget.bytes) {
          res.body.destroy();
          throw new SpecLoadError(label, `spec larger than ${limits.maxBytes} bytes`);
        }
        chunks.push(b);
      }
    } catch (err) {
      if (err instanceof SpecLoadError) throw err;
      throw new SpecLoadError(label, `cannot read ${displaySource(current.href)}: ${errorText(err)}`);
    }
    budget.bytes -= size;
    return Buffer.concat(chunks).toString('utf8');
  }
}

export async function readLocalFile(path: string, budget: Budget, limits: Limits, label: string): Promise<string> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new SpecLoadError(label, `${path} is not a regular file`);
    if (st.size > budget.bytes) throw new SpecLoadError(label, `spec larger than ${limits.maxBytes} bytes`);
    const buf = await readFile(path);
    if (buf.length > budget.bytes) throw new SpecLoadError(label, `spec larger than ${limits.maxBytes} bytes`);
    budget.bytes -= buf.length;
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof SpecLoadError) throw err;
    throw new SpecLoadError(label, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? errorText(err)})`);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
