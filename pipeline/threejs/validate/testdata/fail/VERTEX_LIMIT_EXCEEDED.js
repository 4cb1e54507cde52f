export default function generate(THREE) {
  return new THREE.Mesh(new THREE.SphereGeometry(0.4, 512, 512), new THREE.MeshStandardMaterial());
}
