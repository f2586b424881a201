// The per-pod header secrets the webhook puts in each sidecar: 24 random bytes, base64url. Drawn from a buffer
// filled 256 secrets at a time: one randomBytes call per 256 admissions instead of one each (the synchronous
// call was ~6% of the webhook's CPU under load).

import { randomBytes } from 'node:crypto';

const SIZE = 24;

export function secretSource(batch = 256): () => string {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + SIZE > pool.length) {
      pool = randomBytes(SIZE * batch);
      offset = 0;
    }
    const secret = pool.subarray(offset, offset + SIZE).toString('base64url');
    // Never kept: the bytes handed out are overwritten, so the buffer holds no secret already in use.
    pool.fill(0, offset, offset + SIZE);
    offset += SIZE;
    return secret;
  };
}
