// tailor/dtr.hpp — dynamic treatment regimes: sequential data and regimes, Q-learning (linear
// with sandwich errors, or any regressor per action), A-learning for binary actions, and regime
// values by IPW and AIPW with paired comparisons.
#pragma once

#include "tailor/dtr/a_learning.hpp"
#include "tailor/dtr/q_learning.hpp"
#include "tailor/dtr/sequential_data.hpp"
#include "tailor/dtr/value.hpp"
