// tailor/cate/default_learners.hpp — the base learners meta-learners use when none is named:
// histogram random forests (learn/regression_forest.hpp, learn/classification_forest.hpp),
// which need no tuning to be reasonable. Name others explicitly, e.g.
// XLearner<learn::GradientBoostingRegressor, learn::LogisticRegression>.
#pragma once

#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/regression_forest.hpp"

namespace tailor::cate {
using DefaultRegressor = learn::RegressionForest;
using DefaultClassifier = learn::ClassificationForest;
}  // namespace tailor::cate
