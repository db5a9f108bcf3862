// tailor/bidding.hpp — real-time bidding: auction logs, bid landscapes, bidders (constant, Mcpc,
// linear, ORTB1/2, RLB and SS-MDP), replay under explicit protocols (rlb-dp, optimal-rtb),
// sweeps and tuning, and budget pacing.
#pragma once

#include "tailor/bidding/auction_log.hpp"
#include "tailor/bidding/bidders.hpp"
#include "tailor/bidding/landscape.hpp"
#include "tailor/bidding/pacing.hpp"
#include "tailor/bidding/replay.hpp"
#include "tailor/bidding/rlb.hpp"
