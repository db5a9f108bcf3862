// tailor/cate.hpp — heterogeneous treatment effects: S/T/X/R/DR meta-learners, the grf-style
// causal forest, AIPW average effects (ATE, ATT, ATC, subsets), overlap diagnostics and the
// rank-weighted average treatment effect (RATE/TOC) for evaluating prioritization rules.
#pragma once

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/meta_learner_common.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/rate.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
