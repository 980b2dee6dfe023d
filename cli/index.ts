/**
 * Public surface of the CLI package: run `nibble` programmatically, and the
 * HTML report renderer (for tools that gather their own figures).
 */
export { COMMAND_LOADERS, loadCommands, runNibble } from './nibble.js';
export type { CommandSpec } from './command.js';
export { EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR } from './exit.js';
export { buildReportData, dramBytesPerInstruction } from './report/data.js';
export type { ReportInputs } from './report/data.js';
export { CHART_IDS, renderReportHtml } from './report/html.js';
export type { ReportData, ReportLayer } from './report/model.js';
