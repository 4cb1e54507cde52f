export default function generate(THREE) {
  const root = new THREE.Group();
  let at = root;
  for (let i = 0; i < 40; i++) {
    const next = new THREE.Group();
    at.add(next);
    at = next;
  }
  at.add(new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial()));
  return root;
}
