// The deploy search space: which compressions the planner tries, and why each is there.
// Every target gets the same first round (fp32, fp16, int8, int4, clustering, pruning combined
// with int8 or clustering, entropy coding); the planner adds mixed-precision int8 rounds
// when plain int8 misses the accuracy floor (deploy/planner.cpp).
#pragma once

#include <string>
#include <vector>

#include "compress/recipe.h"

namespace pith::deploy {

struct CandidateSpec {
  Recipe recipe;
  std::string why;
};

// The planner always has calibration samples (given, or the first 512 of --data), so int8
// is tried and pruning is data-aware.
std::vector<CandidateSpec> first_round();

}  // namespace pith::deploy
