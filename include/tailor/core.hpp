// tailor/core.hpp — the matrix core: types, errors, data views, random, folds, parallel,
// metrics, serialization, progress.
#pragma once

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/sample_mean.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
