// tailor/learn.hpp — base learners: ridge and logistic regression, histogram binning, the tree
// engine with regression/classification forests, gradient boosting, and cross-fitting.
#pragma once

#include "tailor/learn/binning.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/cross_fit.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"
