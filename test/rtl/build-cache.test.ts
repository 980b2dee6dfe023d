/** rtl-gen/shell/build-cache.ts: a failed build keeps its tool log and the error names where (issue 16, item 5). */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBuild, runTool } from '../../rtl-gen/index.js';

const root = mkdtempSync(join(tmpdir(), 'nibble-build-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cachedBuild', () => {
  it('keeps a failed build log beside the cache, names it in the error, and leaves no temporary directory', () => {
    const sources = [{ name: 'a.v', text: 'module a; endmodule\n' }];
    let message = '';
    try {
      cachedBuild(
        'demo',
        sources,
        () => false,
        (tmp) => runTool('sh', ['-c', 'echo the tool says why; exit 3'], tmp, 'a failing build'),
        root,
      );
    } catch (e) {
      message = (e as Error).message;
    }
    const kept = readdirSync(root);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^demo-[0-9a-f]{16}\.failed\.sh\.log$/);
    const log = join(root, kept[0]!);
    expect(readFileSync(log, 'utf8')).toContain('the tool says why');
    expect(message).toContain(`(log: ${log})`);
    expect(message).not.toContain('.tmp-');
  });

  it('a successful build is renamed into place and reused', () => {
    const sources = [{ name: 'b.v', text: 'module b; endmodule\n' }];
    const first = cachedBuild(
      'ok',
      sources,
      (d) => existsSync(join(d, 'b.v')),
      () => undefined,
      root,
    );
    expect(first.built).toBe(true);
    const again = cachedBuild(
      'ok',
      sources,
      (d) => existsSync(join(d, 'b.v')),
      () => undefined,
      root,
    );
    expect(again).toEqual({ dir: first.dir, built: false, buildMs: 0 });
  });
});
