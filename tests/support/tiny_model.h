#pragma once
// A three-layer safetensors model (conv1, layer1.conv Conv2d; fc Linear) with
// seeded random weights, for the language-server estimate tests.
#include <string>

#include "core/engine_test_support.h"

namespace amct::test {

// With `fc_outlier` != 1, one weight of fc is multiplied by it: the same file
// size, very different per-tensor errors on fc.
inline std::string tiny_model_safetensors(float fc_outlier = 1.0f) {
  std::vector<float> fc = random_weights(10 * 32, 3);
  fc[7] *= fc_outlier;
  return safetensors_file({
      {"conv1.weight", "F32", {16, 3, 3, 3}, f32_bytes(random_weights(16 * 3 * 3 * 3, 1))},
      {"layer1.conv.weight", "F32", {32, 16, 3, 3}, f32_bytes(random_weights(32 * 16 * 3 * 3, 2))},
      {"fc.weight", "F32", {10, 32}, f32_bytes(fc)},
  });
}

}  // namespace amct::test
