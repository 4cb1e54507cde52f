export const size = 0.4;
export default function generate(THREE) {
  return new THREE.Mesh(new THREE.BoxGeometry(size, size, size), new THREE.MeshStandardMaterial());
}
