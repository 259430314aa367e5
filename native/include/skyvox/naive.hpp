// A deliberately plain motion detector — frame difference, fixed threshold, flood fill — as
// the scalar baseline the benchmark compares the real kernel with. Not used by the pipeline.
#pragma once
#include <cstdint>

namespace skyvox {

// Returns the number of 8-connected blobs where |cur − prev| > threshold (8-bit frames).
int naive_motion(const uint8_t* prev, const uint8_t* cur, int width, int height, int threshold);

}  // namespace skyvox
