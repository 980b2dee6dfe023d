/**
 * The content keys of nibble's caches (the Verilator builds, the board and
 * part syntheses, the FPGA fit samples) and of the config hash: the first 16
 * hex digits of the SHA-256 of the parts, hashed in order as one UTF-8 text.
 * Keys name cache directories on disk, so this function must keep giving the
 * same key for the same parts (test/arch/content-key.test.ts pins values).
 */
import { createHash } from 'node:crypto';

export function contentKey(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}
