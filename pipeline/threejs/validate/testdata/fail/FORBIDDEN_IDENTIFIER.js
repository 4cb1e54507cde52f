export default function generate(THREE) {
  const s = Date.now() % 3;
  return new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial({ color: s }));
}
