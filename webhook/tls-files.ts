// Serving certificate files that are re-read when they change, so a rotated certificate
// (a Secret volume update, `podid certs` writing new files) is served without a restart:
// new connections get the new context, open connections keep theirs.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedTls {
  options: SecureContextOptions;
  fingerprint: string;
}

/** Reads and checks a certificate/key pair; throws a message that never contains key material. */
export async function loadTls(files: TlsFiles): Promise<LoadedTls> {
  // Both reads settle before any error, so the message names every unreadable file, whichever failed first.
  const [certRead, keyRead] = await Promise.allSettled([readFile(files.certFile), readFile(files.keyFile)]);
  if (certRead.status === 'rejected' || keyRead.status === 'rejected') {
    const why = (what: string, file: string, r: PromiseSettledResult<Buffer>) =>
      r.status === 'rejected' ? [`${what} ${file} (${(r.reason as NodeJS.ErrnoException).code ?? 'unreadable'})`] : [];
    throw new Error(`cannot read the serving ${[...why('certificate', files.certFile, certRead), ...why('key', files.keyFile, keyRead)].join(' and ')}`);
  }
  const cert = certRead.value;
  const key = keyRead.value;
  const options = { cert, key };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`${files.certFile} and ${files.keyFile} are not a usable certificate and key: ${(err as Error).message}`);
  }
  const fingerprint = createHash('sha256').update(cert).update(key).digest('hex');
  return { options, fingerprint };
}

export interface TlsWatcher {
  stop(): void;
  /** Checks the files now; resolves true when a new pair was applied. */
  check(): Promise<boolean>;
}

export function watchTls(files: TlsFiles, initial: LoadedTls, intervalMs: number, apply: (tls: LoadedTls) => void, onError: (err: Error) => void): TlsWatcher {
  let current = initial.fingerprint;
  let running: Promise<boolean> | undefined;
  const check = () => {
    running ??= loadTls(files)
      .then((next) => {
        if (next.fingerprint === current) return false;
        current = next.fingerprint;
        apply(next);
        return true;
      })
      .catch((err: Error) => {
        // A half-written pair during rotation: keep serving the old one and try again later.
        onError(err);
        return false;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
