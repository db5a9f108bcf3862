// tailor/pipeline.hpp — typed compositions of the modules: the targeting pipeline
// (features → segments → effect model → policy with budget → off-policy evaluation).
#pragma once

#include "tailor/pipeline/targeting_pipeline.hpp"
