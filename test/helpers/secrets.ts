import { randomBytes, randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A fresh secret of a G-8 class, with its random part (what must never leak). */
export interface Secret {
  label: string;
  value: string;
  /** The random part; the leak criterion looks at windows of it. */
  random: string;
  /** Window length of the leak criterion for this class (G-8.5). */
  window: number;
}

function luhnComplete(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

export type SecretClass = 'openai' | 'github' | 'aws' | 'slack' | 'pem' | 'jwt' | 'email' | 'ssn' | 'card';

export function freshSecrets(): Record<SecretClass, Secret> {
  const openaiRandom = pick(ALNUM, 48);
  const githubRandom = pick(ALNUM, 36);
  const awsRandom = pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16);
  const slackRandom = pick(ALNUM, 24);
  const pemBody = randomBytes(600).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  const jwtSig = randomBytes(32).toString('base64url');
  const jwtPayload = b64url({ sub: `user-${pick(ALNUM, 12)}`, iat: 1_700_000_000 });
  const local = pick('abcdefghijklmnopqrstuvwxyz', 14);
  const ssnRandom = `${randomInt(100, 665)}-${String(randomInt(10, 99))}-${String(randomInt(1000, 9999))}`;
  const card = luhnComplete(`4${pick('0123456789', 14)}`);
  return {
    openai: { label: 'openai', value: `sk-proj-${openaiRandom}`, random: openaiRandom, window: 16 },
    github: { label: 'github', value: `ghp_${githubRandom}`, random: githubRandom, window: 16 },
    aws: { label: 'aws', value: `AKIA${awsRandom}`, random: `AKIA${awsRandom}`, window: 20 },
    slack: { label: 'slack', value: `xoxb-${randomInt(1e9, 9e9)}-${randomInt(1e9, 9e9)}-${slackRandom}`, random: slackRandom, window: 16 },
    pem: { label: 'pem', value: `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----`, random: pemBody.replace(/\n/g, ''), window: 24 },
    jwt: { label: 'jwt', value: `${b64url({ alg: 'HS256', typ: 'JWT' })}.${jwtPayload}.${jwtSig}`, random: jwtSig, window: 16 },
    email: { label: 'email', value: `${local}@example.com`, random: local, window: 12 },
    ssn: { label: 'ssn', value: ssnRandom, random: ssnRandom.replace(/-/g, ''), window: 9 },
    card: { label: 'card', value: `${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)}`, random: card, window: 16 },
  };
}

/** The G-8.5 leak criterion: some `window`-character slice of the random part is visible in `text`. */
export function leaks(text: string, s: Secret): boolean {
  const hay = text.replace(/[\s-]/g, '');
  const needle = s.random.replace(/[\s-]/g, '');
  const w = Math.min(s.window, needle.length);
  for (let i = 0; i + w <= needle.length; i++) if (hay.includes(needle.slice(i, i + w))) return true;
  return false;
}
