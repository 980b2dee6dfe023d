/** Command line of `npm run bench -- [section ...] [options]`. */
import { join } from 'node:path';
import { NibbleError, packageRoot, type DiagnosticCode } from '../arch/index.js';
import type { BenchOptions } from './section.js';
import { SECTIONS, SECTION_ALIASES } from './sections/index.js';

/** A bad bench command line. */
export class BenchUsageError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-B000';
}

export interface BenchArgs {
  sections: string[];
  options: BenchOptions;
  json: string | undefined;
  markdown: string | undefined;
  help: boolean;
}

export function defaultCli(): string {
  return join(packageRoot(), 'dist', 'cli', 'main.js');
}

export function defaultReferenceModel(): string {
  return join(packageRoot(), '..', 'shared', 'reference', 'integernet-mnist-4bit.txt');
}

export const USAGE = `usage: npm run bench -- [section ...] [options]

sections (default: all, in this order):
${SECTIONS.map((s) => `  ${s.name.padEnd(18)}${s.title}`).join('\n')}
  (aliases: ${Object.entries(SECTION_ALIASES)
    .map(([a, n]) => `${a} = ${n}`)
    .join(', ')})

options:
  --skip NAME[,NAME]   run every section except these
  --json FILE          also write all figures as JSON
  --markdown FILE      also write the tables as Markdown (for docs/performance.md)
  --quick              small workloads and short timing loops (a smoke run, not figures to quote)
  --mnist-batch N      images per compiled program in mnist-end-to-end (default 100)
  --model FILE         the authors' MNIST model (default ../shared/reference/integernet-mnist-4bit.txt)
  --cli FILE           the nibble executable the startup section times (default: dist/cli/main.js;
                       another build's, for a before/after comparison)
  --help               this text`;

function canonical(name: string, where: string): string {
  const n = SECTION_ALIASES[name] ?? name;
  if (!SECTIONS.some((s) => s.name === n)) {
    throw new BenchUsageError(`unknown section '${name}' (sections: ${SECTIONS.map((s) => s.name).join(', ')})`, where);
  }
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const picked: string[] = [];
  const skipped: string[] = [];
  const out: BenchArgs = {
    sections: [],
    options: { quick: false, mnistBatch: 100, referenceModel: defaultReferenceModel(), cli: defaultCli() },
    json: undefined,
    markdown: undefined,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${a} needs a value`, 'bench arguments');
      return v;
    };
    switch (a) {
      case '--help':
      case '-h':
        out.help = true;
        break;
      case '--quick':
        out.options.quick = true;
        break;
      case '--json':
        out.json = value();
        break;
      case '--markdown':
        out.markdown = value();
        break;
      case '--model':
        out.options.referenceModel = value();
        break;
      case '--cli':
        out.options.cli = value();
        break;
      case '--skip':
        for (const s of value().split(',')) if (s) skipped.push(canonical(s, '--skip'));
        break;
      case '--mnist-batch': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 10000)
          throw new BenchUsageError(`must be an integer in [1, 10000], got '${v}'`, '--mnist-batch');
        out.options.mnistBatch = n;
        break;
      }
      default:
        if (a.startsWith('-')) throw new BenchUsageError(`unknown option '${a}' (see --help)`, 'bench arguments');
        picked.push(canonical(a, 'bench arguments'));
    }
  }
  const base = picked.length > 0 ? SECTIONS.filter((s) => picked.includes(s.name)) : SECTIONS;
  out.sections = base.filter((s) => !skipped.includes(s.name)).map((s) => s.name);
  return out;
}
