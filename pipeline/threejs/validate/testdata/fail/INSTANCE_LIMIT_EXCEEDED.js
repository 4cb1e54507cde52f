export default function generate(THREE) {
  const mesh = new THREE.InstancedMesh(new THREE.BoxGeometry(0.01, 0.01, 0.01), new THREE.MeshStandardMaterial(), 50001);
  const g = new THREE.Group();
  g.add(mesh);
  return g;
}
