/**
 * Public surface of arch/: the typed machine configuration (ArchConfig and what
 * is derived from it), the error classes every package throws, and where the
 * package lives on disk.
 */
export * from './assert-never.js';
export * from './config.js';
export * from './content-key.js';
export * from './errors.js';
export * from './package-root.js';
export * from './json.js';
export * from './names.js';
export * from './presets.js';
export * from './diagnostics.js';
export { renderDiagnosticsMarkdown } from './diagnostics-doc.js';
export * from './bus.js';
