export default function generate(THREE) {
  return new THREE.Group(;
}
