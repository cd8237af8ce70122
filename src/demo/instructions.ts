/** What `bulwark start --demo` prints: each command shows one layer at work. */
export function demoInstructions(gatewayUrl: string, upstreamUrl: string): string {
  const chat = `${gatewayUrl}/v1/chat/completions`;
  const json = `-H 'content-type: application/json'`;
  return `
Bulwark demo gateway on ${gatewayUrl}
(mock OpenAI-compatible upstream on ${upstreamUrl}; security events are printed below as JSON lines
 and written to .bulwark/demo-events.jsonl)

1. A chat completion, answered through the gateway:
   curl -s ${chat} ${json} -d '{"model":"mock-gpt","messages":[{"role":"user","content":"Hello"}]}'

2. The same answer streamed (SSE passes through event by event):
   curl -sN ${chat} ${json} -d '{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"Stream please"}]}'

3. A shadow endpoint the upstream really serves (/debug) is refused, never forwarded (404 ROUTE_NOT_FOUND):
   curl -s ${gatewayUrl}/debug

4. A path trick is refused (400 INVALID_REQUEST), and so is a body with a duplicate key (400 INVALID_INPUT):
   curl -s --path-as-is '${gatewayUrl}/v1/chat%2Fcompletions' ${json} -d '{}'
   curl -s ${chat} ${json} -d '{"model":"a","model":"b","messages":[{"role":"user","content":"hi"}]}'

5. max_tokens above the route's cap (1024) is refused:
   curl -s ${chat} ${json} -d '{"model":"mock-gpt","max_tokens":999999,"messages":[{"role":"user","content":"hi"}]}'

Liveness: curl -s ${gatewayUrl}/healthz      Stop: Ctrl-C (drains in-flight requests)
`;
}
