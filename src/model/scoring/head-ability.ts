// Ability θ from one loaded head, by its manifest type: zero-shot quality
// (CLIP-IQA over antonym anchors), zero-shot alignment (image-prompt cosine),
// or a trained ONNX head fed the features its manifest maps.
import { AgqgError } from '../errors.ts';
import { cosine } from '../grading/similarity.ts';
import type { LoadedHead } from './pack-sessions.ts';
import type { SessionRunner, TensorIn } from './runtime.ts';

function featureTensor(features: Float32Array): TensorIn {
  return { dtype: 'float32', data: features, dims: [1, features.length] };
}

/** Softmax of two logits, first component: the probability CLIP-IQA reads as quality. */
function softmaxFirst(x0: number, x1: number): number {
  const m = Math.max(x0, x1);
  const e0 = Math.exp(x0 - m);
  const e1 = Math.exp(x1 - m);
  return e0 / (e0 + e1);
}

/** Ability theta from one head; null when the head needs a prompt embedding that is not there. */
export async function headAbility(
  head: LoadedHead,
  image: Float32Array,
  prompt: Float32Array | null,
): Promise<number | null> {
  const spec = head.spec;
  switch (spec.type) {
    case 'zero-shot-quality': {
      let q = 0;
      for (const [pos, neg] of head.anchors) {
        q += softmaxFirst(spec.logitScale * cosine(image, pos), spec.logitScale * cosine(image, neg));
      }
      q /= head.anchors.length;
      return spec.scale * (q - spec.center);
    }
    case 'zero-shot-alignment':
      return prompt ? spec.scale * (cosine(image, prompt) - spec.center) : null;
    case 'onnx': {
      const session = head.session as SessionRunner;
      const feeds: Record<string, TensorIn> = {};
      for (const [name, source] of Object.entries(spec.inputs)) {
        if (source === 'text_features') {
          if (!prompt) return null;
          feeds[name] = featureTensor(prompt);
        } else feeds[name] = featureTensor(image);
      }
      const out = await session.run(feeds, [spec.outputs.ability]);
      const theta = out[spec.outputs.ability]?.data[0];
      if (theta === undefined || !Number.isFinite(theta)) {
        throw new AgqgError('backend_failed', `heads.${head.kind} (${spec.file}) gave no finite ability`);
      }
      return theta;
    }
  }
}
