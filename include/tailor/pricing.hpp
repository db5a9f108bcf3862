// tailor/pricing.hpp — pricing and policy evaluation on panels: the validated Panel, synthetic
// control with an exact simplex QP and in-space placebo inference, difference in differences,
// synthetic difference in differences (and synthdid's SC and DID in the same frame).
#pragma once

#include "tailor/pricing/panel.hpp"
#include "tailor/pricing/synthetic_control.hpp"
#include "tailor/pricing/synthetic_did.hpp"
