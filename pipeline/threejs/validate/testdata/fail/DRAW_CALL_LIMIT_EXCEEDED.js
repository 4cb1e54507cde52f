export default function generate(THREE) {
  const g = new THREE.Group();
  const geo = new THREE.BoxGeometry(0.02, 0.02, 0.02);
  const mat = new THREE.MeshStandardMaterial();
  for (let i = 0; i < 201; i++) {
    const m = new THREE.Mesh(geo, mat);
    m.position.set((i % 15) * 0.05 - 0.35, Math.floor(i / 15) * 0.05 - 0.35, 0);
    g.add(m);
  }
  return g;
}
