import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startMockLlm } from '../src/demo/mock-llm.js';
import { spawnCli } from './helpers/cli.js';
import { deferred, startScriptedUpstream } from './helpers/scripted-upstream.js';

const config = (upstream: string, extraRoute = '') => `version: 1
server: { listen: "127.0.0.1:0", drainTimeout: 10s }
upstreams:
  llm: { url: "${upstream}" }
routes:
  - name: models
    match: { methods: [GET], path: /v1/models }
${extraRoute}events:
  sinks: []
`;

describe('reload and shutdown (bulwark start as a process)', () => {
  it('a bad file on reload keeps the old config serving; a good one applies (file change and SIGHUP)', async () => {
    const mock = await startMockLlm();
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-reload-'));
    const file = join(dir, 'bulwark.yaml');
    writeFileSync(file, config(mock.url));
    const p = spawnCli(['start', '-c', file]);
    try {
      const [, url] = await p.waitFor(/listening on (http:\/\/[^\s"]+)/);
      assert.equal((await fetch(`${url}/v1/models`)).status, 200);

      writeFileSync(file, config(mock.url).replace('path: /v1/models', 'path: v1/models') + 'bogus: [\n');
      await p.waitFor(/config rejected \(file change\)/);
      assert.equal((await fetch(`${url}/v1/models`)).status, 200, 'old config still serving');

      writeFileSync(file, config(mock.url, '  - name: embed\n    match: { methods: [POST], path: /v1/embeddings }\n    kind: openai-embeddings\n'));
      await p.waitFor(/config reloaded \(file change\)/);
      const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', input: 'hi' }) });
      assert.equal(res.status, 200);

      p.child.kill('SIGHUP');
      await p.waitFor(/config reloaded \(SIGHUP\)/);

      // Editors save by renaming a new file over the old one; the watch must survive that.
      const before = (p.stderr().match(/config reloaded \(file change\)/g) ?? []).length;
      writeFileSync(`${file}.tmp`, config(mock.url));
      renameSync(`${file}.tmp`, file);
      await p.waitFor(new RegExp(`(?:config reloaded \\(file change\\)[\\s\\S]*){${before + 1}}`));
      assert.equal((await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","input":"x"}' })).status, 404);
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
      await mock.close();
    }
  });

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const release = deferred();
    const arrived = deferred();
    const up = await startScriptedUpstream(async (_req, res) => {
      arrived.resolve();
      await release.promise;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":[]}');
    });
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-drain-'));
    const file = join(dir, 'bulwark.yaml');
    writeFileSync(file, config(up.url));
    const p = spawnCli(['start', '-c', file, '--no-watch']);
    try {
      const [, url] = await p.waitFor(/listening on (http:\/\/[^\s"]+)/);
      const inflight = fetch(`${url}/v1/models`);
      await arrived.promise;
      p.child.kill('SIGTERM');
      await p.waitFor(/draining/);
      setTimeout(() => release.resolve(), 300);
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{"data":[]}');
      assert.equal(await p.exited, 0);
    } finally {
      release.resolve();
      p.child.kill('SIGKILL');
      await up.close();
    }
  });
});
