// Starts the app. Trunk would inline this in index.html; as a file it is covered by the CSP's
// `script-src 'self'` with no hash to keep in sync. The hashed file names come from the
// <script data-js data-wasm> tag that Trunk writes (`pattern_script` in Trunk.toml).
//
// First, which part of index.html's static shell fits this address: the home page's hero, or a
// skeleton for any other page.
document.documentElement.dataset.page = location.pathname === "/" ? "home" : "other";
const { js, wasm } = document.querySelector("script[data-wasm]").dataset;
const { default: init } = await import(js);
await init({ module_or_path: wasm });
