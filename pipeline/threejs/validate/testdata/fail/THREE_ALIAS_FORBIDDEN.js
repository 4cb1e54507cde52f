export default function generate(THREE) {
  const T = THREE;
  return new T.Mesh(new T.BoxGeometry(0.4, 0.4, 0.4), new T.MeshStandardMaterial());
}
