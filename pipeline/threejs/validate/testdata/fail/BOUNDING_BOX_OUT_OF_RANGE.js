export default function generate(THREE) {
  const m = new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial());
  m.position.x = 0.4;
  return m;
}
