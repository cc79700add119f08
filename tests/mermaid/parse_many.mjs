// Mermaid's own parser over many diagrams at once (the fuzz campaigns, tests/fuzz_support.py):
// reads a JSON list of diagram texts on standard input, prints a JSON list of
// {ok, error, config} in the same order (config: what the text sets, front matter or
// %%{init}%%). One node process for a whole campaign: starting Mermaid costs about a second.
import { JSDOM } from "jsdom";
import fs from "node:fs";

const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const results = [];
for (const text of JSON.parse(fs.readFileSync(0, "utf8"))) {
  try {
    const result = await mermaid.parse(text);
    results.push({ ok: true, config: result.config || {} });
  } catch (error) {
    results.push({ ok: false, error: String((error && error.message) || error).slice(0, 300) });
  }
}
console.log(JSON.stringify(results));
