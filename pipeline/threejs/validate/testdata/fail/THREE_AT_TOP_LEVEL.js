const Box = THREE.BoxGeometry;
export default function generate(T) {
  return new T.Mesh(new Box(0.4, 0.4, 0.4), new T.MeshStandardMaterial());
}
