#pragma once
// Deterministic AMCT retrain configs for the benchmarks (a port of
// ../shared/perf/gen_cfg.py: same shape, own RNG): `layers` override blocks,
// the same bytes for the same (layers, seed).
#include <cstdint>
#include <string>

namespace amct::bench {

std::string generate_config(int layers, uint64_t seed);

}  // namespace amct::bench
