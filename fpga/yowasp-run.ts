/**
 * Runs one YoWASP tool (WebAssembly Yosys, nextpnr-ice40, icepack from npm) as
 * if it were the native command in the current directory:
 *   node dist/fpga/yowasp-run.js TOOL ARGS...
 * The YoWASP packages expose a JavaScript API over a virtual file system, not
 * executables: the directory's files go in, the files the tool wrote come back
 * out, its stdout and stderr pass through, its exit code is ours. fpga/tools.ts
 * spawns this so the flows stay synchronous and log like the native tools.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

type Tree = { [name: string]: Tree | string | Uint8Array };
type Command = (args: string[], files: Tree, options: object) => Promise<Tree | undefined>;

/** The package and the export of each tool. */
const YOWASP_COMMANDS = {
  yosys: { pkg: '@yowasp/yosys', run: 'runYosys' },
  'nextpnr-ice40': { pkg: '@yowasp/nextpnr-ice40', run: 'runNextpnrIce40' },
  icepack: { pkg: '@yowasp/nextpnr-ice40', run: 'runIcepack' },
} as const;

function readTree(dir: string): Tree {
  const t: Tree = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) t[e.name] = readTree(join(dir, e.name));
    else if (e.isFile()) t[e.name] = readFileSync(join(dir, e.name));
  }
  return t;
}

function writeTree(dir: string, t: Tree, before: Tree | undefined): void {
  for (const [name, v] of Object.entries(t)) {
    const old = before?.[name];
    if (typeof v === 'string' || v instanceof Uint8Array) {
      const data = typeof v === 'string' ? Buffer.from(v) : v;
      if (!(old instanceof Uint8Array) || !Buffer.from(old).equals(data)) writeFileSync(join(dir, name), data);
    } else {
      mkdirSync(join(dir, name), { recursive: true });
      writeTree(join(dir, name), v, old instanceof Uint8Array || typeof old === 'string' ? undefined : old);
    }
  }
}

async function main(): Promise<number> {
  const [tool, ...args] = process.argv.slice(2);
  const spec = YOWASP_COMMANDS[tool as keyof typeof YOWASP_COMMANDS];
  if (!spec) {
    process.stderr.write(
      `yowasp-run: unknown tool '${String(tool)}' (known: ${Object.keys(YOWASP_COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  const mod = (await import(spec.pkg)) as Record<string, Command>;
  const files = readTree('.');
  const pass = (s: NodeJS.WriteStream) => (b: Uint8Array | null) => {
    if (b) s.write(b);
  };
  const options = { stdout: pass(process.stdout), stderr: pass(process.stderr) };
  try {
    const out = await mod[spec.run]!(args, files, options);
    if (out) writeTree('.', out, files);
    return 0;
  } catch (e) {
    const exit = e as { code?: unknown; files?: Tree };
    if (typeof exit.code !== 'number' || !exit.files) throw e;
    writeTree('.', exit.files, files);
    return exit.code;
  }
}

process.exitCode = await main();
