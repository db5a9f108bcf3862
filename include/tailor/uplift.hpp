// tailor/uplift.hpp — uplift evaluation: uplift/Qini/lift curves and their normalized scores
// (scikit-uplift and CausalML conventions), uplift@k and by bin, bootstrap bands, and
// cross-fitted nuisances for the IPW / doubly-robust versions on observational data, and the
// class-transformation / transformed-outcome uplift learners, and uplift random forests (KL, ED,
// chi-squared, CTS split criteria).
#pragma once

#include "tailor/uplift/bootstrap.hpp"
#include "tailor/uplift/class_transformation.hpp"
#include "tailor/uplift/curves.hpp"
#include "tailor/uplift/nuisance.hpp"
#include "tailor/uplift/uplift_at_k.hpp"
#include "tailor/uplift/uplift_forest.hpp"
