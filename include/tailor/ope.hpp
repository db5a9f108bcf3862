// tailor/ope.hpp — off-policy evaluation: target policies, cross-fitted nuisances (reward model,
// logging propensities), IPS / SNIPS / DM / DR / SNDR / Switch-DR / DRos with normal and
// bootstrap intervals, and the evaluate() report.
#pragma once

#include "tailor/ope/estimators.hpp"
#include "tailor/ope/evaluate.hpp"
#include "tailor/ope/nuisance.hpp"
#include "tailor/ope/policy.hpp"
