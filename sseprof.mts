import { sseFilter } from './src/stages/output-guard/sse-filter.ts';
import { OutputPolicy } from './src/stages/output-guard/policy.ts';
import { compileRecognizers } from './src/stages/output-guard/recognizers/index.ts';
const rec = compileRecognizers(['secrets', 'pii']);
const ev = (t: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}]}\n\n`;
const chunk = Buffer.from(ev('All work and no play makes a dull answer, again and again; the tide comes in at noon. '.repeat(4)).repeat(40));
for (let round = 0; round < 3; round++) {
  const f = sseFilter(new OutputPolicy({ recognizers: rec, onMatch: 'redact', kind: 'openai-chat' }));
  const t0 = performance.now();
  let bytes = 0;
  while (bytes < 20 * 1024 * 1024) { f.onChunk(chunk); bytes += chunk.length; }
  f.onEnd();
  console.log('MB/s', (bytes / 1024 / 1024 / ((performance.now() - t0) / 1000)).toFixed(1));
}
