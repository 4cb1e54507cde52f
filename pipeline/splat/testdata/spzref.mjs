// spzref.mjs drives an outside SPZ implementation (fetched by
// scripts/setup-spz.sh) for pipeline/splat's interoperability tests:
//
//   node spzref.mjs IMPL DIR read  IN.spz  OUT.json          IMPL loads IN; its cloud as JSON
//   node spzref.mjs IMPL DIR write IN.json OUT.spz [VERSION] IMPL writes the JSON cloud as SPZ
//
// IMPL is spz-js (DIR: its package directory; it writes gzip version 2) or
// adobe (@adobe/spz, Niantic's library as WebAssembly; DIR holds spz.mjs;
// VERSION 1-3 writes the gzip container, 4 NGSP). The JSON cloud is the
// GaussianCloud both libraries use: numPoints, shDegree, antialiased and the
// arrays positions, scales (log), rotations (x y z w), alphas (logits),
// colors (SH DC) and sh (the other coefficients, coefficient-major with RGB
// inner). Coordinates are not converted (Niantic's UNSPECIFIED system).
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [impl, dir, mode, inPath, outPath, version] = process.argv.slice(2);
const arrays = ['positions', 'scales', 'rotations', 'alphas', 'colors', 'sh'];

let load, save;
if (impl === 'spz-js') {
  const { loadSpz } = await import(pathToFileURL(`${dir}/dist/spz-loader.js`));
  const { serializeSpz } = await import(pathToFileURL(`${dir}/dist/spz-serializer.js`));
  // A Uint8Array: node 20's DecompressionStream never settles on an
  // ArrayBuffer chunk.
  load = async (bytes) => loadSpz(bytes);
  save = async (g) => serializeSpz(g);
} else if (impl === 'adobe') {
  const { default: createSpzModule } = await import(pathToFileURL(`${dir}/spz.mjs`));
  const m = await createSpzModule({ print: () => {}, printErr: (s) => console.error(s) });
  const none = m.CoordinateSystem.UNSPECIFIED;
  load = async (bytes) => m.loadSpzFromBuffer(bytes, { to: none });
  save = async (g) => m.saveSpzToBuffer({ ...g, extensions: [] },
    { version: Number(version || 4), from: none, sh1Bits: 5, shRestBits: 4 });
} else {
  console.error(`unknown implementation ${impl}: want spz-js or adobe`);
  process.exit(2);
}

if (mode === 'read') {
  let g = null;
  try {
    g = await load(new Uint8Array(readFileSync(inPath)));
  } catch (e) {
    console.error(e);
  }
  if (!g || !g.numPoints) {
    console.error(`${impl} could not load ${inPath}`);
    process.exit(1);
  }
  const out = { numPoints: g.numPoints, shDegree: g.shDegree, antialiased: g.antialiased };
  for (const k of arrays) out[k] = Array.from(g[k]);
  writeFileSync(outPath, JSON.stringify(out));
} else if (mode === 'write') {
  const j = JSON.parse(readFileSync(inPath, 'utf8'));
  const g = { numPoints: j.numPoints, shDegree: j.shDegree, antialiased: !!j.antialiased };
  for (const k of arrays) g[k] = Float32Array.from(j[k]);
  const bytes = await save(g);
  if (!bytes || !bytes.length) {
    console.error(`${impl} could not write ${outPath}`);
    process.exit(1);
  }
  writeFileSync(outPath, bytes);
} else {
  console.error(`usage: node spzref.mjs IMPL DIR read|write IN OUT [VERSION] (got ${mode})`);
  process.exit(2);
}
