export default function generate(THREE) {
  console.log('building');
  return new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial());
}
