/** A 2,000-character English answer, as a model might write it (test fixture). */
export const ENGLISH_ANSWER = [
  'Rate limiting protects an API from two different problems: accidental overload and deliberate abuse.',
  'A sliding-window limiter counts the requests each client made in the last minute and refuses the next one once the count reaches the limit,',
  'so a burst at the edge of a fixed window cannot double the allowed rate. For language-model endpoints the number of requests is a poor measure of cost,',
  'because one request may ask for a few tokens and the next for tens of thousands. That is why gateways usually add a token budget:',
  'before forwarding, they estimate the prompt tokens and reserve the maximum completion tokens, and after the answer arrives they settle the reservation with the real usage reported by the provider.',
  'Concurrency limits are the third tool. A streaming answer can hold a connection open for minutes, and a client that opens hundreds of streams at once can starve everyone else even while staying under its request and token limits.',
  'Finally, adaptive penalties tie these limits to security signals. When a client trips the prompt-injection detector or fails authentication repeatedly, its limits shrink, and a sustained pattern leads to a temporary ban.',
  'None of these controls is useful without good identities. Limits keyed by IP address punish users behind a shared NAT and do little against an attacker with a pool of addresses,',
  'so the limits that matter are keyed by the authenticated subject: the API key, the JWT subject, or the client certificate.',
  'In practice, start with generous limits in monitor mode, watch the events for a week, and tighten them once you know what normal traffic looks like.',
  'Document the limits for your users, return Retry-After on every refusal, and make sure your own clients back off with jitter instead of retrying in lockstep,',
  'which turns a short overload into a long outage. Measure the effect: latency percentiles, the share of refused requests, and the tokens spent per client per day tell you whether the limits fit.',
  'Revisit them whenever a new model or a new client arrives.',
].join(' ');
