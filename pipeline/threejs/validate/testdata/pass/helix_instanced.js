// An InstancedMesh helix, destructured names, a class and a generator.
class Step {
  constructor(i) { this.i = i; }
  angle() { return this.i * 0.35; }
}
function* steps(n) { for (let i = 0; i < n; i++) yield new Step(i); }

export default function generate(THREE) {
  const { InstancedMesh, SphereGeometry, MeshStandardMaterial, Matrix4 } = THREE;
  const n = 60;
  const mesh = new InstancedMesh(new SphereGeometry(0.03, 12, 8), new MeshStandardMaterial({ color: 0x3366ff }), n);
  const m = new Matrix4();
  for (const s of steps(n)) {
    m.makeTranslation(0.3 * Math.cos(s.angle()), (s.i / n) * 0.8 - 0.4, 0.3 * Math.sin(s.angle()));
    mesh.setMatrixAt(s.i, m);
  }
  const g = new THREE.Group();
  g.add(mesh);
  return g;
}
