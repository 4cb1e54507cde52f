// Points with vertex colours and LineSegments from EdgesGeometry, in a
// custom BufferGeometry; template literals and object keys named like
// forbidden globals are fine.
export default function generate(THREE) {
  const label = `points-${3}`;
  const opts = { fetch: false, window: 1 };
  const n = 500;
  const pos = new Float32Array(n * 3);
  const col = new Float32Array(n * 3);
  let s = 12345;
  const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
  for (let i = 0; i < n; i++) {
    pos[i * 3] = rnd() * 0.8 - 0.4;
    pos[i * 3 + 1] = rnd() * 0.8 - 0.4;
    pos[i * 3 + 2] = rnd() * 0.8 - 0.4;
    col[i * 3] = rnd(); col[i * 3 + 1] = 0.5; col[i * 3 + 2] = 1 - col[i * 3];
  }
  const geo = new THREE.BufferGeometry();
  geo.setAttribute('position', new THREE.BufferAttribute(pos, 3));
  geo.setAttribute('color', new THREE.Float32BufferAttribute(col, 3));
  const pts = new THREE.Points(geo, new THREE.PointsMaterial({ size: 0.01, vertexColors: true }));
  pts.name = label + opts.window;
  const edges = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(0.9, 0.9, 0.9)), new THREE.LineBasicMaterial({ color: 0xffffff }));
  const root = new THREE.Group();
  root.add(pts, edges);
  return root;
}
