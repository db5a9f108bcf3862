// tailor/datasets.hpp — simulated designs with known truth for tests, benchmarks and examples.
#pragma once

#include "tailor/datasets/auction_streams.hpp"
#include "tailor/datasets/causal_designs.hpp"
#include "tailor/datasets/ctr_worlds.hpp"
#include "tailor/datasets/dtr_designs.hpp"
#include "tailor/datasets/multitask_designs.hpp"
