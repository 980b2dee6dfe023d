/**
 * `npm run bench -- [section ...]`: the performance figures of docs/performance.md.
 * Tables go to stdout, progress to stderr. Exit 0 when every selected section
 * ran (missed goals print MISS, they are figures, not failures), 1 when one
 * failed, 2 on a bad command line.
 */
import { writeFileSync } from 'node:fs';
import { BenchUsageError, parseBenchArgs, USAGE } from './args.js';
import { describeMachine, machineInfo } from './machine.js';
import {
  goalSummary,
  markdownSection,
  markdownTable,
  renderSection,
  renderTable,
  type SectionReport,
} from './report.js';
import { runSections } from './run.js';
import { SECTIONS } from './sections/index.js';

function markdown(reports: SectionReport[], machine: string, command: string): string {
  return [
    `Machine: ${machine}`,
    '',
    `Command: \`${command}\``,
    '',
    markdownTable(goalSummary(reports)),
    '',
    ...reports.map(markdownSection),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`bench: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const machine = machineInfo();
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  process.stdout.write(`nibble benchmarks: ${describeMachine(machine)}\n${command}\n\n`);
  const sections = SECTIONS.filter((s) => args.sections.includes(s.name));
  const t0 = performance.now();
  const reports = await runSections(sections, args.options, {
    log: (m) => process.stderr.write(`  ... ${m}\n`),
    onSection: (r) => process.stdout.write(`${renderSection(r)}\n`),
  });
  const totalSeconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${renderTable(goalSummary(reports))}\n\n`);
  process.stdout.write(
    `total ${totalSeconds.toFixed(1)} s, process max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
  );
  let ok = !reports.some((r) => r.status === 'failed');
  const write = (file: string, text: string, what: string) => {
    try {
      writeFileSync(file, text);
    } catch (e) {
      process.stderr.write(`bench: ${file}: cannot write the ${what}: ${(e as Error).message}\n`);
      ok = false;
    }
  };
  if (args.json)
    write(
      args.json,
      JSON.stringify({ machine, command, options: args.options, totalSeconds, sections: reports }, null, 2) + '\n',
      'JSON figures',
    );
  if (args.markdown) write(args.markdown, markdown(reports, describeMachine(machine), command), 'Markdown tables');
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
