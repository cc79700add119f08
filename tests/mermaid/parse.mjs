// Mermaid's own parser on standard input (tests/test_renderers_tell.py): prints JSON with
// ok, the diagram type, the configuration the text sets (front matter, %%{init}%%) and
// each vertex's label as the parser read it. Mermaid needs a DOM: jsdom's.
import { JSDOM } from "jsdom";
import fs from "node:fs";

const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const text = fs.readFileSync(0, "utf8");
try {
  const result = await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const vertices = {};
  for (const [id, vertex] of diagram.db.getVertices()) vertices[id] = vertex.text;
  console.log(JSON.stringify({ ok: true, type: result.diagramType, config: result.config,
                               vertices }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String((error && error.message) || error) }));
}
