// tailor/policy.hpp — from effects to decisions: doubly-robust action scores, threshold and
// argmax rules, capacity and money-budget policies, per-group effect reports ("sleeping dogs"),
// and depth-limited policy trees (Athey & Wager 2021).
#pragma once

#include "tailor/policy/budget.hpp"
#include "tailor/policy/policy_tree.hpp"
#include "tailor/policy/report.hpp"
#include "tailor/policy/rules.hpp"
#include "tailor/policy/scores.hpp"
