export function generate(THREE) {
  return new THREE.Group();
}
