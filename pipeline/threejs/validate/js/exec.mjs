// exec.mjs: the execution half of the subnet-17 Three.js validator, one
// process per module. Usage:
//   node --max-old-space-size=256 exec.mjs THREE_MODULE_JS MODULE_JS LIMITS_JSON
// Loads three, hides the non-deterministic globals, prints "ready" on
// stderr (the caller's 5 s clock starts there), imports the module, calls
// generate(THREE) and checks the returned root as the output specification
// says. Writes one JSON line on stdout: {failures, metrics, timings}.
import { pathToFileURL } from 'node:url';

const [threePath, modPath, limitsJSON] = process.argv.slice(2);
const L = JSON.parse(limitsJSON);
const THREE = Object.freeze({ ...(await import(pathToFileURL(threePath).href)) });
const out = { failures: [], metrics: null, timings: {} };
const fail = (stage, rule, detail) => out.failures.push({ stage, rule, detail });
const write = process.stdout.write.bind(process.stdout);
const hrnow = process.hrtime.bigint;
const memUsage = process.memoryUsage.bind(process);
const done = () => { write(JSON.stringify(out) + '\n'); };

// No globals are replaced: three itself calls Math.random (object UUIDs) at
// construction, and the static rules already reject every reference to the
// non-deterministic globals, as the subnet's own local validator relies on.
process.stderr.write('ready\n');
const t0 = hrnow();
const ms = () => Number(hrnow() - t0) / 1e6;
let root;
try {
  let mod;
  try {
    mod = await import(pathToFileURL(modPath).href);
  } catch (e) {
    fail('module_load', 'EXECUTION_THREW', String(e && e.message || e).slice(0, 200));
    throw null;
  }
  out.timings.loadMs = ms();
  if (typeof mod.default !== 'function') { fail('module_load', 'INVALID_RETURN_TYPE', 'default export is not a function'); throw null; }
  try {
    root = mod.default(THREE);
  } catch (e) {
    fail('execution', 'EXECUTION_THREW', String(e && e.message || e).slice(0, 200));
    throw null;
  }
  out.timings.generateMs = ms() - out.timings.loadMs;
  if (ms() > L.timeoutMs) { fail('execution', 'TIMEOUT_EXCEEDED', `${ms().toFixed(0)} ms, limit ${L.timeoutMs}`); throw null; }
  const m = memUsage();
  if (m.heapUsed + m.arrayBuffers > L.heapBytes) {
    fail('execution', 'HEAP_EXCEEDED', `${m.heapUsed + m.arrayBuffers} bytes in use after generate, limit ${L.heapBytes}`);
    throw null;
  }
  if (root && typeof root.then === 'function') { fail('execution', 'ASYNC_NOT_ALLOWED', 'generate returned a Promise'); throw null; }
  if (!root || !(root.isGroup || root.isMesh || root.isLineSegments || root.isPoints)) {
    fail('execution', 'INVALID_RETURN_TYPE', root === null ? 'null' : typeof root === 'object' ? (root.type || 'object') : typeof root);
    throw null;
  }
  postValidate(root);
} catch (e) {
  if (e !== null) fail('execution', 'EXECUTION_THREW', String(e && e.message || e).slice(0, 200));
}
done();

function postValidate(r) {
  let start = 0;
  if (!r.isGroup) start = 1; // a bare Mesh/LineSegments/Points is wrapped in a Group
  const seen = new Set();
  const textures = new Set();
  const mt = { vertices: 0, drawCalls: 0, depth: start, instances: 0, textureBytes: 0, bbox: null };
  const walk = (n, depth) => {
    if (seen.has(n)) { const e = new Error('cycle'); e.rule = 'CYCLE_DETECTED'; throw e; }
    if (depth > L.maxDepth) { const e = new Error(`depth ${depth} > ${L.maxDepth}`); e.rule = 'DEPTH_LIMIT_EXCEEDED'; throw e; }
    seen.add(n);
    if (depth > mt.depth) mt.depth = depth;
    if (n.isMesh || n.isLine || n.isPoints) {
      mt.drawCalls++;
      const pos = n.geometry && n.geometry.attributes && n.geometry.attributes.position;
      if (pos) mt.vertices += pos.count;
      if (n.isInstancedMesh) mt.instances += n.count || 0;
      const mats = Array.isArray(n.material) ? n.material : [n.material];
      for (const mat of mats) {
        if (!mat) continue;
        for (const k of Object.keys(mat)) {
          const v = mat[k];
          if (v && v.isDataTexture && !textures.has(v)) {
            textures.add(v);
            const d = v.image && v.image.data;
            if (d && d.byteLength) mt.textureBytes += d.byteLength;
          }
        }
      }
    }
    for (const c of n.children || []) walk(c, depth + 1);
  };
  try {
    walk(r, start);
  } catch (e) {
    fail('post_validation', e.rule || 'EXECUTION_THREW', e.message);
    return;
  }
  out.metrics = mt;
  const box = new THREE.Box3().setFromObject(r);
  if (box.isEmpty()) { fail('post_validation', 'EMPTY_SCENE', 'bounding box is empty'); return; }
  mt.bbox = [box.min.toArray(), box.max.toArray()];
  if (mt.vertices > L.maxVertices) fail('post_validation', 'VERTEX_LIMIT_EXCEEDED', `${mt.vertices} vertices, limit ${L.maxVertices}`);
  if (mt.drawCalls > L.maxDrawCalls) fail('post_validation', 'DRAW_CALL_LIMIT_EXCEEDED', `${mt.drawCalls} draw calls, limit ${L.maxDrawCalls}`);
  if (mt.instances > L.maxInstances) fail('post_validation', 'INSTANCE_LIMIT_EXCEEDED', `${mt.instances} instances, limit ${L.maxInstances}`);
  if (mt.textureBytes > L.maxTextureBytes) fail('post_validation', 'TEXTURE_DATA_EXCEEDED', `${mt.textureBytes} bytes, limit ${L.maxTextureBytes}`);
  const axes = ['x', 'y', 'z'];
  for (let i = 0; i < 3; i++) {
    const lo = mt.bbox[0][i], hi = mt.bbox[1][i];
    if (!(lo >= -L.halfExtent && hi <= L.halfExtent)) {
      fail('post_validation', 'BOUNDING_BOX_OUT_OF_RANGE', `${axes[i]} in [${lo}, ${hi}], limit ±${L.halfExtent}`);
    }
  }
}
