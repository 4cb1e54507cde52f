package score

// CLIPFiles returns the text and image tower files NewCLIP loads from dir.
func CLIPFiles(dir string) (text, image string, err error) {
	if text, err = towerPath("", dir, "text_model.onnx"); err != nil {
		return "", "", err
	}
	if image, err = towerPath("", dir, "vision_model.onnx"); err != nil {
		return "", "", err
	}
	return text, image, nil
}
