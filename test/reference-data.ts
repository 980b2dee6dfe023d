/** Where the tests find the shared reference data: beside the repository (../shared/), never copied into it. */
import { fileURLToPath } from 'node:url';

/** The authors' 4-bit MNIST model (IntegerNet raw-text export), see ../shared/reference/README.md. */
export const AUTHORS_MODEL = fileURLToPath(
  new URL('../../shared/reference/integernet-mnist-4bit.txt', import.meta.url),
);

/** The real ONNX / QONNX models for the importer, see ../shared/onnx/README.md. */
export const SHARED_ONNX = fileURLToPath(new URL('../../shared/onnx/', import.meta.url));
