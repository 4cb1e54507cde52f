// spzjs.mjs drives spz-js (an independent SPZ implementation, fetched by
// scripts/setup-spz.sh) for TestSPZInteropSPZJS:
//
//   node spzjs.mjs DIR read  IN.spz  OUT.json   spz-js loads IN; its cloud as JSON
//   node spzjs.mjs DIR write IN.json OUT.spz    spz-js writes the JSON cloud as SPZ
//
// DIR is the spz-js package directory. The JSON cloud is spz-js's own
// GaussianCloud: numPoints, shDegree, antialiased and the arrays positions,
// scales (log), rotations (x y z w), alphas (logits), colors (SH DC) and sh
// (the other coefficients, coefficient-major with RGB inner).
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [dir, mode, inPath, outPath] = process.argv.slice(2);
const { loadSpz } = await import(pathToFileURL(`${dir}/dist/spz-loader.js`));
const { serializeSpz } = await import(pathToFileURL(`${dir}/dist/spz-serializer.js`));
const arrays = ['positions', 'scales', 'rotations', 'alphas', 'colors', 'sh'];

if (mode === 'read') {
  const buf = readFileSync(inPath);
  let g = null;
  try {
    // A Uint8Array: node 20's DecompressionStream never settles on an
    // ArrayBuffer chunk.
    g = await loadSpz(new Uint8Array(buf));
  } catch (e) {
    console.error(e);
  }
  if (!g) {
    console.error(`spz-js could not load ${inPath}`);
    process.exit(1);
  }
  const out = { numPoints: g.numPoints, shDegree: g.shDegree, antialiased: g.antialiased };
  for (const k of arrays) out[k] = Array.from(g[k]);
  writeFileSync(outPath, JSON.stringify(out));
} else if (mode === 'write') {
  const j = JSON.parse(readFileSync(inPath, 'utf8'));
  const g = { numPoints: j.numPoints, shDegree: j.shDegree, antialiased: !!j.antialiased };
  for (const k of arrays) g[k] = Float32Array.from(j[k]);
  writeFileSync(outPath, await serializeSpz(g));
} else {
  console.error(`usage: node spzjs.mjs DIR read|write IN OUT (got ${mode})`);
  process.exit(2);
}
