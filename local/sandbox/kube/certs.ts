import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface KubePki {
  ca: KeyPair;
  /** The API server's certificate, for 127.0.0.1 and localhost. */
  server: KeyPair;
}

/**
 * The sandbox cluster's certificate authority, made with the `openssl` command (Node can verify
 * certificates but not make them). EC P-256 keys: quick to make, and what kubectl and Node accept.
 */
export function createPki(): KubePki {
  return inTemp((dir) => {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/O=fc-devops sandbox/CN=sandbox-kubernetes-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    const ca = { cert: read(dir, 'ca.crt'), key: read(dir, 'ca.key') };
    const server = sign(dir, ca, '/CN=kube-apiserver', 3650, [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
    ]);
    return { ca, server };
  });
}

/**
 * A client certificate as ACK's user kubeconfig carries: the user in CN, groups in O. Its
 * validity is whole days (openssl's unit); the sandbox enforces the exact minutes by serial.
 */
export function issueClientCert(
  ca: KeyPair,
  user: string,
  groups: string[],
  days: number,
  serial: string,
): KeyPair {
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
  return inTemp((dir) =>
    sign(
      dir,
      ca,
      subject,
      days,
      ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature'],
      serial,
    ),
  );
}

function sign(
  dir: string,
  ca: KeyPair,
  subject: string,
  days: number,
  extensions: string[],
  serial?: string,
): KeyPair {
  writeFileSync(join(dir, 'issuer.crt'), ca.cert);
  writeFileSync(join(dir, 'issuer.key'), ca.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ext.cnf'), `${extensions.join('\n')}\n`);
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    subject,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'issuer.crt',
    '-CAkey',
    'issuer.key',
    ...(serial ? ['-set_serial', `0x${serial}`] : ['-CAcreateserial']),
    '-days',
    String(days),
    '-sha256',
    '-extfile',
    'ext.cnf',
    '-out',
    'leaf.crt',
  ]);
  return { cert: read(dir, 'leaf.crt'), key: read(dir, 'leaf.key') };
}

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as Error & { stderr?: Buffer; code?: string };
    if (e.code === 'ENOENT')
      throw new Error('the sandbox Kubernetes API needs the openssl command (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

function inTemp<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-pki-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
