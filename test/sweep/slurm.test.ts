/** Heavy points as a Slurm job array: the script, each array task run as Slurm would, collecting, a missing task. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, expectUserError, nibble } from '../cli/nibble.js';
import { expectEachPointOnce, resultLines, specDir } from './helpers.js';

beforeAll(async () => {
  await ensureBuilt();
}, 600_000);

describe('Slurm job array', () => {
  test(
    'write, run every array task, collect; a task that did not run is reported and collected later',
    { timeout: 180_000 },
    async () => {
      const { dir, file, out } = specDir(
        'name: sl\nmodels: [mnist]\naxes:\n  array.size: [4, 8, 16]\n  scratchpad.inputEntries: [64, 2048]\n',
      );
      const slurm = join(dir, 'slurm');
      const w = await nibble(['sweep', file, '--out', out, '--slurm', slurm], { cwd: dir });
      expect(w.code, w.stderr).toBe(0);
      expect(w.stdout).toMatch(
        /wrote a Slurm job array of 6 points \(0 already done\) to .*sweep\.sbatch; submit it with: sbatch /,
      );
      const script = readFileSync(join(slurm, 'sweep.sbatch'), 'utf8');
      expect(script).toMatch(/^#!\/bin\/bash\n/);
      expect(script).toContain('#SBATCH --array=0-5');
      expect(script).toMatch(/worker --task-file ".*tasks\.jsonl" --index "\$\{SLURM_ARRAY_TASK_ID\}"/);
      expect(readFileSync(join(slurm, 'tasks.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(6);
      const task = (i: number) =>
        spawnSync('bash', [join(slurm, 'sweep.sbatch')], {
          env: { ...process.env, SLURM_ARRAY_TASK_ID: String(i) },
          encoding: 'utf8',
        });
      for (const i of [0, 1, 2, 4, 5]) {
        const r = task(i);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^[0-9a-f]{16} (ok|failed \(compile: .*\)): wrote .*results\/[0-9a-f]{16}\.json\n$/);
      }
      const partial = await nibble(['sweep', file, '--out', out, '--collect', slurm], { cwd: dir });
      expectUserError(
        partial,
        /1 of 6 points could not run \(no result in .*slurm\/results \(its array task failed or has not run yet\)\); they are not stored: run the same command again to retry them/,
      );
      expect(resultLines(out)).toHaveLength(5);
      expect(task(3).status).toBe(0);
      const all = await nibble(['sweep', file, '--out', out, '--collect', slurm, '--json'], { cwd: dir });
      expect(all.code, all.stderr).toBe(0);
      expect((JSON.parse(all.stdout) as { ran: number; reused: number }).ran).toBe(1);
      expectEachPointOnce(out, 6);
      const again = await nibble(['sweep', file, '--out', out, '--slurm', slurm], { cwd: dir });
      expect(again.stdout).toMatch(/nothing to run: all 6 points of sl are in /);
    },
  );

  test('bad task files and indices are one line', async () => {
    const { dir } = specDir('');
    expectUserError(
      await nibble(['worker', '--task-file', join(dir, 'none.jsonl'), '--index', '0']),
      /none\.jsonl: cannot read the task file \(ENOENT\)/,
    );
    const { file } = specDir('{"task": 1}\n', 'tasks.jsonl');
    expectUserError(
      await nibble(['worker', '--task-file', file, '--index', '3']),
      /tasks\.jsonl: --index 3 is outside the 1 tasks \(0 \.\. 0\)/,
    );
    expectUserError(await nibble(['worker', '--task-file', file]), /--task-file needs --index N/);
    expectUserError(await nibble(['worker']), /give either --queue redis:\/\/HOST:PORT or --task-file FILE --index N/);
  });
});
