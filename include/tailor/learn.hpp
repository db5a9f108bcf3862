// tailor/learn.hpp — base learners: linear models, histogram forests, gradient boosting.
#pragma once

#include "tailor/learn/concepts.hpp"
