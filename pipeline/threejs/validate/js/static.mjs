// static.mjs: the static half of the subnet-17 Three.js validator, a
// long-lived worker. Usage: node static.mjs BABEL_PARSER_JS THREE_MODULE_JS
// Reads one JSON request per line on stdin ({"id":N,"src":"..."}) and writes
// one JSON reply per line on stdout ({"id":N,"failures":[{stage,rule,detail}],
// "literalBytes":N}). The rules are the output and runtime specifications'
// (rule codes as there); the walker and its scope tracking are our own.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import readline from 'node:readline';

const [babelPath, threePath] = process.argv.slice(2);
const babel = createRequire(import.meta.url)(babelPath);
const THREE_NAMES = new Set(Object.keys(await import(pathToFileURL(threePath).href)));

const LITERAL_BUDGET = 50 * 1024;

const ALLOWED_ROOTS = new Set(('Math Number String Array Object Symbol JSON Map Set Boolean Error TypeError ' +
  'RangeError Infinity NaN undefined parseInt parseFloat isFinite isNaN BigInt ArrayBuffer DataView Int8Array ' +
  'Uint8Array Uint8ClampedArray Int16Array Uint16Array Int32Array Uint32Array Float32Array Float64Array ' +
  'BigInt64Array BigUint64Array').split(' '));

const FORBIDDEN = new Set(('eval Function setTimeout setInterval setImmediate queueMicrotask fetch XMLHttpRequest ' +
  'WebSocket document window navigator localStorage sessionStorage indexedDB OffscreenCanvas HTMLCanvasElement ' +
  'crypto Date performance Proxy Reflect WeakRef FinalizationRegistry SharedArrayBuffer Atomics Worker process ' +
  'module global globalThis self require import').split(' '));

// Computed member access is banned on these globals (and on THREE and every
// name bound from it).
const COMPUTED_GATED = new Set(['Math', 'Object', 'Array', 'Symbol']);

// The output specification's "Allowed Three.js APIs", as listed there.
const THREE_ALLOWED = new Set((
  // geometry
  'BufferGeometry BufferAttribute InterleavedBuffer InterleavedBufferAttribute Float32BufferAttribute ' +
  'Uint8BufferAttribute Uint16BufferAttribute Uint32BufferAttribute Int8BufferAttribute Int16BufferAttribute ' +
  'Int32BufferAttribute BoxGeometry SphereGeometry CylinderGeometry CapsuleGeometry ConeGeometry TorusGeometry ' +
  'TorusKnotGeometry PlaneGeometry CircleGeometry RingGeometry TetrahedronGeometry OctahedronGeometry ' +
  'DodecahedronGeometry IcosahedronGeometry PolyhedronGeometry ExtrudeGeometry LatheGeometry ShapeGeometry ' +
  'TubeGeometry EdgesGeometry WireframeGeometry ' +
  // materials, textures
  'MeshStandardMaterial MeshPhysicalMaterial MeshBasicMaterial PointsMaterial LineBasicMaterial LineDashedMaterial ' +
  'DataTexture ' +
  // math
  'Vector2 Vector3 Vector4 Matrix3 Matrix4 Quaternion Euler Box2 Box3 Sphere Plane Ray Line3 Triangle Spherical ' +
  'Cylindrical Color MathUtils ' +
  // curves and shapes
  'Curve CurvePath Shape Path CatmullRomCurve3 CubicBezierCurve3 LineCurve3 QuadraticBezierCurve3 EllipseCurve ' +
  'ArcCurve LineCurve SplineCurve QuadraticBezierCurve CubicBezierCurve ' +
  // objects
  'Object3D Group Mesh InstancedMesh Line LineSegments Points ' +
  // constants
  'SRGBColorSpace LinearSRGBColorSpace NoColorSpace FrontSide BackSide DoubleSide NormalBlending AdditiveBlending ' +
  'SubtractiveBlending MultiplyBlending NoBlending NearestFilter LinearFilter NearestMipmapNearestFilter ' +
  'LinearMipmapNearestFilter NearestMipmapLinearFilter LinearMipmapLinearFilter RepeatWrapping ClampToEdgeWrapping ' +
  'MirroredRepeatWrapping RGBAFormat RGBFormat RGFormat RedFormat LuminanceFormat UnsignedByteType HalfFloatType ' +
  'FloatType StaticDrawUsage DynamicDrawUsage StreamDrawUsage').split(' '));

// Members of allowed THREE members that are themselves forbidden.
const THREE_BLOCKED_SUB = { MathUtils: new Set(['seededRandom', 'generateUUID']) };

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range', 'extra', 'leadingComments', 'trailingComments',
  'innerComments', 'comments', 'tokens', 'errors']);

function analyze(src) {
  const failures = [];
  const fail = (stage, rule, detail) => failures.push({ stage, rule, detail });
  let ast;
  try {
    ast = babel.parse(src, { sourceType: 'module', errorRecovery: false });
  } catch (e) {
    fail('parse', 'PARSE_ERROR', String(e && e.message || e).slice(0, 200));
    return { failures, literalBytes: 0 };
  }

  // Top-level structure: exactly one export, the default, a sync function.
  let def = null;
  let exports = 0;
  for (const st of ast.program.body) {
    if (st.type === 'ExportDefaultDeclaration') { def = st; exports++; }
    else if (st.type === 'ExportNamedDeclaration' || st.type === 'ExportAllDeclaration') exports++;
  }
  if (!def) {
    fail('static_analysis', 'MISSING_DEFAULT_EXPORT', 'no export default');
    return { failures, literalBytes: 0 };
  }
  if (exports > 1) fail('static_analysis', 'MULTIPLE_TOP_LEVEL_EXPORTS', `${exports} top-level exports, want 1`);
  const d = def.declaration;
  if (!['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'].includes(d.type)) {
    fail('static_analysis', 'MISSING_DEFAULT_EXPORT', `default export is a ${d.type}, not a function`);
    return { failures, literalBytes: 0 };
  }
  if (d.async) {
    fail('static_analysis', 'ASYNC_NOT_ALLOWED', 'default export is async');
    return { failures, literalBytes: 0 };
  }

  // Function declarations by name (and const f = function/arrow), so that a
  // call passing THREE can be matched with the callee's parameter.
  const fnByName = new Map();
  const line = (n) => (n.loc ? n.loc.start.line : '?');
  let literalBytes = 0;

  // Scopes: one per function (parameters, var/let/const/class/function
  // declared anywhere in its body outside nested functions) and one for the
  // module. threeBound marks a function with a parameter named THREE;
  // threeNames maps names destructured from THREE to their member.
  const isFn = (n) => n && (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' ||
    n.type === 'ArrowFunctionExpression' || n.type === 'ObjectMethod' || n.type === 'ClassMethod' ||
    n.type === 'ClassPrivateMethod');

  function patternNames(p, out) {
    if (!p) return out;
    switch (p.type) {
      case 'Identifier': out.push(p.name); break;
      case 'ObjectPattern': for (const q of p.properties) patternNames(q.type === 'RestElement' ? q.argument : q.value, out); break;
      case 'ArrayPattern': for (const q of p.elements) patternNames(q, out); break;
      case 'RestElement': patternNames(p.argument, out); break;
      case 'AssignmentPattern': patternNames(p.left, out); break;
    }
    return out;
  }

  // declared collects the names a function (or the program) declares.
  function declared(body, names) {
    const visit = (n) => {
      if (!n || typeof n.type !== 'string') return;
      switch (n.type) {
        case 'VariableDeclarator': patternNames(n.id, names); visit(n.init); return;
        case 'FunctionDeclaration':
          if (n.id) names.push(n.id.name);
          return; // its body is its own scope
        case 'ClassDeclaration': if (n.id) names.push(n.id.name); break;
        case 'CatchClause': patternNames(n.param, names); break;
      }
      if (isFn(n) || n.type === 'ClassExpression' && false) return;
      for (const k of Object.keys(n)) {
        if (SKIP_KEYS.has(k)) continue;
        const v = n[k];
        if (Array.isArray(v)) v.forEach(visit);
        else if (v && typeof v.type === 'string') visit(v);
      }
    };
    visit(body);
    return names;
  }

  function newScope(parent, fn) {
    const names = [];
    if (fn) {
      for (const p of fn.params) patternNames(p, names);
      if (fn.type === 'FunctionExpression' && fn.id) names.push(fn.id.name);
      declared(fn.body, names);
    } else {
      declared(ast.program, names);
    }
    const threeBound = !!fn && fn.params.some((p) => p.type === 'Identifier' && p.name === 'THREE');
    return { parent, names: new Set(names), threeBound, threeNames: new Map(parent ? parent.threeNames : []) };
  }
  const bound = (s, name) => { for (; s; s = s.parent) if (s.names.has(name)) return true; return false; };
  const threeInScope = (s) => { for (; s; s = s.parent) if (s.threeBound) return true; return false; };

  for (const st of ast.program.body) {
    if (st.type === 'FunctionDeclaration' && st.id) fnByName.set(st.id.name, st);
    if (st.type === 'ExportDefaultDeclaration' && st.declaration.id) fnByName.set(st.declaration.id.name, st.declaration);
  }
  const collectFns = (n) => {
    if (!n || typeof n.type !== 'string') return;
    if (n.type === 'FunctionDeclaration' && n.id) fnByName.set(n.id.name, n);
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier' && isFn(n.init)) fnByName.set(n.id.name, n.init);
    for (const k of Object.keys(n)) {
      if (SKIP_KEYS.has(k)) continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(collectFns); else if (v && typeof v.type === 'string') collectFns(v);
    }
  };
  collectFns(ast.program);

  function checkThreeMember(name, node, via) {
    if (!THREE_NAMES.has(name)) fail('static_analysis', 'UNKNOWN_THREE_API', `THREE.${name}${via} at line ${line(node)}`);
    else if (!THREE_ALLOWED.has(name)) fail('static_analysis', 'FORBIDDEN_THREE_API', `THREE.${name}${via} at line ${line(node)}`);
  }

  // threeUse checks one reference to THREE given its parent: member access,
  // destructuring into plain names, or passing to a local function whose
  // parameter at that position is named THREE. Anything else lets THREE escape.
  function threeUse(node, parent, key, scope) {
    if ((parent.type === 'MemberExpression' || parent.type === 'OptionalMemberExpression') && key === 'object') {
      if (parent.computed) fail('static_analysis', 'COMPUTED_PROPERTY_ACCESS', `THREE[...] at line ${line(node)}`);
      else if (parent.property.type === 'Identifier') checkThreeMember(parent.property.name, node, '');
      return;
    }
    if (parent.type === 'VariableDeclarator' && key === 'init' && parent.id.type === 'ObjectPattern') {
      for (const p of parent.id.properties) {
        if (p.type !== 'ObjectProperty' || p.computed || p.key.type !== 'Identifier' || p.value.type !== 'Identifier') {
          fail('static_analysis', 'THREE_ALIAS_FORBIDDEN', `destructuring of THREE with a rest, default, computed or nested pattern at line ${line(node)}`);
          return;
        }
        checkThreeMember(p.key.name, node, ' (destructured)');
        scope.threeNames.set(p.value.name, p.key.name);
      }
      return;
    }
    if ((parent.type === 'CallExpression' || parent.type === 'OptionalCallExpression') && key === 'arguments') {
      const i = parent.arguments.indexOf(node);
      const callee = parent.callee.type === 'Identifier' ? fnByName.get(parent.callee.name) : null;
      const p = callee && callee.params[i];
      if (p && p.type === 'Identifier' && p.name === 'THREE') return;
      fail('static_analysis', 'THREE_ALIAS_FORBIDDEN', `THREE passed to a callee whose parameter is not named THREE at line ${line(node)}`);
      return;
    }
    fail('static_analysis', 'THREE_ALIAS_FORBIDDEN', `THREE used as a value (${parent.type}) at line ${line(node)}`);
  }

  // walk visits every node; binding marks identifiers in declaration position.
  function walk(n, parent, key, scope, binding) {
    if (!n || typeof n.type !== 'string') return;
    switch (n.type) {
      case 'StringLiteral': literalBytes += Buffer.byteLength(n.value, 'utf8'); return;
      case 'NumericLiteral':
      case 'BigIntLiteral': literalBytes += String(n.extra && n.extra.raw != null ? n.extra.raw : n.value).length; return;
      case 'TemplateElement': literalBytes += Buffer.byteLength(n.value.cooked ?? n.value.raw ?? '', 'utf8'); return;
      case 'ImportDeclaration': case 'Import': case 'ImportExpression':
        fail('static_analysis', 'FORBIDDEN_IDENTIFIER', `import at line ${line(n)}`); return;
      case 'MetaProperty': fail('static_analysis', 'FORBIDDEN_IDENTIFIER', `${n.meta.name}.${n.property.name} at line ${line(n)}`); return;
      case 'AwaitExpression': fail('static_analysis', 'ASYNC_NOT_ALLOWED', `await at line ${line(n)}`); break;
      case 'ForOfStatement': if (n.await) fail('static_analysis', 'ASYNC_NOT_ALLOWED', `for await at line ${line(n)}`); break;
      case 'Identifier': identifier(n, parent, key, scope, binding); return;
      case 'MemberExpression': case 'OptionalMemberExpression': member(n, scope); break;
    }
    if (isFn(n) || n.type === 'ClassMethod') {
      if (n.async) fail('static_analysis', 'ASYNC_NOT_ALLOWED', `async function at line ${line(n)}`);
      const s = newScope(scope, n);
      if (n.id) walk(n.id, n, 'id', scope, true);
      if (n.key) walk(n.key, n, 'key', scope, false);
      for (const p of n.params) walk(p, n, 'params', s, true);
      walk(n.body, n, 'body', s, false);
      return;
    }
    for (const k of Object.keys(n)) {
      if (SKIP_KEYS.has(k)) continue;
      const v = n[k];
      const bind = childBinding(n, k, binding);
      if (Array.isArray(v)) { for (const c of v) walk(c, n, k, scope, bind); }
      else if (v && typeof v.type === 'string') walk(v, n, k, scope, bind);
    }
  }

  // childBinding: whether child k of n is in declaration position.
  function childBinding(n, k, binding) {
    switch (n.type) {
      case 'VariableDeclarator': return k === 'id';
      case 'ClassDeclaration': case 'ClassExpression': return k === 'id';
      case 'CatchClause': return k === 'param';
      case 'AssignmentPattern': return k === 'left' ? binding : false;
      case 'ObjectPattern': case 'ArrayPattern': case 'RestElement': return binding;
      case 'ObjectProperty': return k === 'value' ? binding : false;
      default: return false;
    }
  }

  function identifier(n, parent, key, scope, binding) {
    const name = n.name;
    // Property names and keys are not references.
    if ((parent.type === 'MemberExpression' || parent.type === 'OptionalMemberExpression') && key === 'property' && !parent.computed) return;
    if (['ObjectProperty', 'ObjectMethod', 'ClassProperty', 'ClassMethod', 'ClassPrivateProperty', 'ClassAccessorProperty'].includes(parent.type) &&
      key === 'key' && !parent.computed) return;
    if (['LabeledStatement', 'BreakStatement', 'ContinueStatement'].includes(parent.type)) return;
    if (parent.type === 'ExportSpecifier' || parent.type === 'ExportNamespaceSpecifier') return;

    if (FORBIDDEN.has(name)) {
      fail('static_analysis', 'FORBIDDEN_IDENTIFIER', `${name} at line ${line(n)}`);
      return;
    }
    if (name === 'THREE') {
      if (binding) {
        if (!(isFn(parent) && key === 'params')) {
          fail('static_analysis', scope.parent ? 'THREE_ALIAS_FORBIDDEN' : 'THREE_AT_TOP_LEVEL', `THREE declared at line ${line(n)}`);
        }
        return;
      }
      if (!threeInScope(scope)) {
        fail('static_analysis', 'THREE_AT_TOP_LEVEL', `THREE referenced outside a function taking THREE at line ${line(n)}`);
        return;
      }
      threeUse(n, parent, key, scope);
      return;
    }
    if (binding) return;
    if (!bound(scope, name) && !ALLOWED_ROOTS.has(name)) {
      fail('static_analysis', 'IDENTIFIER_NOT_ALLOWED', `${name} at line ${line(n)}`);
    }
  }

  function member(n, scope) {
    const o = n.object;
    const prop = !n.computed && n.property.type === 'Identifier' ? n.property.name : null;
    if (o.type === 'Identifier') {
      const global = !bound(scope, o.name);
      if (n.computed && ((global && COMPUTED_GATED.has(o.name)) || scope.threeNames.has(o.name))) {
        fail('static_analysis', 'COMPUTED_PROPERTY_ACCESS', `${o.name}[...] at line ${line(n)}`);
      }
      if (global && o.name === 'Math' && prop === 'random') {
        fail('static_analysis', 'FORBIDDEN_IDENTIFIER', `Math.random at line ${line(n)}`);
      }
      const m = scope.threeNames.get(o.name);
      if (m && THREE_BLOCKED_SUB[m] && prop && THREE_BLOCKED_SUB[m].has(prop)) {
        fail('static_analysis', 'FORBIDDEN_THREE_API', `${m}.${prop} at line ${line(n)}`);
      }
    }
    // THREE.X.Y: computed access and blocked sub-members.
    if ((o.type === 'MemberExpression' || o.type === 'OptionalMemberExpression') && o.object.type === 'Identifier' &&
      o.object.name === 'THREE' && !o.computed && o.property.type === 'Identifier') {
      if (n.computed) fail('static_analysis', 'COMPUTED_PROPERTY_ACCESS', `THREE.${o.property.name}[...] at line ${line(n)}`);
      const blocked = THREE_BLOCKED_SUB[o.property.name];
      if (blocked && prop && blocked.has(prop)) {
        fail('static_analysis', 'FORBIDDEN_THREE_API', `THREE.${o.property.name}.${prop} at line ${line(n)}`);
      }
    }
  }

  try {
    const top = newScope(null, null);
    for (const st of ast.program.body) walk(st, ast.program, 'body', top, false);
  } catch (e) {
    if (e instanceof RangeError) {
      fail('parse', 'PARSE_ERROR', 'nesting too deep to analyse');
    } else throw e;
  }
  if (literalBytes > LITERAL_BUDGET) {
    fail('static_analysis', 'LITERAL_BUDGET_EXCEEDED', `${literalBytes} literal bytes, limit ${LITERAL_BUDGET}`);
  }
  return { failures, literalBytes };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (l) => {
  let req;
  try { req = JSON.parse(l); } catch (e) { process.stdout.write(JSON.stringify({ id: -1, error: 'bad request' }) + '\n'); return; }
  let out;
  try { out = analyze(String(req.src)); } catch (e) { out = { error: String(e && e.message || e).slice(0, 200) }; }
  process.stdout.write(JSON.stringify({ id: req.id, ...out }) + '\n');
});
