export default function generate(THREE) {
  const g = new THREE.Group();
  const inner = new THREE.Group();
  g.add(inner);
  inner.add(new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial()));
  inner.children.push(g);
  return g;
}
