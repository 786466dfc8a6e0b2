/**
 * HTML reports: a page per dump and a fleet page, from the report's JSON (no CLI, no dump access).
 * renderDumpPage/renderFleetPage turn data into HTML for any caller (the fleet service serves them
 * live); writeHtmlSite builds the static site over a `vaat report` output directory.
 */
export { renderDumpPage, type DumpPageOptions, type DumpClientData, type WaitGraph } from './dump-page.js';
export { renderFleetPage, type FleetPageOptions, type FleetClientData } from './fleet-page.js';
export { dumpPageData, loadDumpPageData, type DumpPageData, type FleetPageData } from './data.js';
export { writeHtmlSite, readSummaries, type HtmlSiteOptions, type HtmlSiteResult } from './site.js';
export { copyAssets, readAsset, assetDir, ASSET_FILES } from './assets.js';
export { anchorId, esc, jsonScript } from './escape.js';
