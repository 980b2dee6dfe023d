/**
 * The bundled CLI's stand-in for chalk's `#supports-color`
 * (cli/build-bundle.mjs), which loads node:tty and node:os and probes the
 * terminal when chalk loads (start-up time). nibble never asks chalk for the
 * level: it gives one (cli/terminal.ts `colourLevel`), so only chalk's own
 * default instance, which nibble does not use, sees this: no colour.
 */
export default { stdout: false as const, stderr: false as const };
