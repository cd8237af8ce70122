import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface DevCertOptions {
  dir: string;
  /** SAN URI of the client certificate (its mTLS identity). */
  clientUri: string;
  /** Extra DNS names for the server certificate (localhost is always included). */
  hosts: readonly string[];
  days: number;
  force: boolean;
}

export interface DevCertFiles {
  ca: string; caKey: string; server: string; serverKey: string; client: string; clientKey: string;
}

/**
 * `bulwark certs init`: a development CA, a server certificate for localhost/127.0.0.1/::1 and a
 * client certificate whose SAN URI is its mTLS identity. ECDSA P-256. Keys are written 0600 and
 * never overwritten unless `force`. For development and tests, not production PKI.
 */
export async function createDevCerts(o: DevCertOptions): Promise<DevCertFiles> {
  const files: DevCertFiles = {
    ca: join(o.dir, 'ca.pem'), caKey: join(o.dir, 'ca-key.pem'), server: join(o.dir, 'server.pem'),
    serverKey: join(o.dir, 'server-key.pem'), client: join(o.dir, 'client.pem'), clientKey: join(o.dir, 'client-key.pem'),
  };
  if (!o.force) {
    const existing = Object.values(files).filter((f) => existsSync(f));
    if (existing.length > 0) throw new Error(`${existing.join(', ')} already exist(s); use --force to replace`);
  }
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1');

  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: 'CN=Bulwark development CA', notBefore, notAfter: new Date(now + 2 * o.days * DAY), keys: caKeys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const leaf = async (cn: string, sans: x509.JsonGeneralName[], usage: string) => {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: `CN=${cn}`, issuer: ca.subject, notBefore, notAfter: new Date(now + o.days * DAY),
      signingKey: caKeys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([usage], false),
        new x509.SubjectAlternativeNameExtension(sans, false),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      ],
    });
    return { cert, keys };
  };
  const server = await leaf('localhost', [{ type: 'dns', value: 'localhost' }, ...o.hosts.map((h) => ({ type: 'dns' as const, value: h })), { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }], x509.ExtendedKeyUsage.serverAuth);
  const client = await leaf(o.clientUri.split('/').pop() || 'client', [{ type: 'url', value: o.clientUri }], x509.ExtendedKeyUsage.clientAuth);

  const pemKey = async (k: webcrypto.CryptoKey) => x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
  const write = (path: string, text: string, secret: boolean) => writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`, { mode: secret ? 0o600 : 0o644 });
  write(files.ca, ca.toString('pem'), false);
  write(files.caKey, await pemKey(caKeys.privateKey), true);
  write(files.server, server.cert.toString('pem'), false);
  write(files.serverKey, await pemKey(server.keys.privateKey), true);
  write(files.client, client.cert.toString('pem'), false);
  write(files.clientKey, await pemKey(client.keys.privateKey), true);
  return files;
}
