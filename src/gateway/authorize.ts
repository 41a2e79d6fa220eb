import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Checks a request's key against the configured keys. */
export type KeyCheck = (req: IncomingMessage) => 'ok' | 'missing' | 'invalid';

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The key a request presents: `Authorization: Bearer <key>`, else `x-api-key`. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * Builds the key check of the gateway. Keys are compared in constant time: the presented key and
 * every configured key are hashed with SHA-256 (equal lengths whatever the inputs), and every
 * configured digest is compared with `crypto.timingSafeEqual`, without stopping at a match.
 *
 * @param keys The accepted keys; must be non-empty strings.
 * @return The check.
 */
export function createKeyCheck(keys: readonly string[]): KeyCheck {
  const digests = keys.map(digest);
  return (req) => {
    const key = presentedKey(req);
    if (key === undefined || key === '') return 'missing';
    const presented = digest(key);
    let match = false;
    for (const d of digests) {
      if (timingSafeEqual(presented, d)) match = true;
    }
    return match ? 'ok' : 'invalid';
  };
}
